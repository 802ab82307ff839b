using SdBlazor.Shared;

namespace SdBlazor.Web.Components.Generation;

public enum SeedMode
{
    Random,
    ReuseLast,
    Fixed,
}

/// <summary>What the Generate form edits; turned into a <see cref="GenerationRequest"/> on submit.</summary>
public sealed partial class GenerateFormModel
{
    public string Prompt { get; set; } = "";
    public string NegativePrompt { get; set; } = "";
    public string? Model { get; set; }
    public string Sampler { get; set; } = "Euler";
    public string ScheduleType { get; set; } = "Automatic";
    public int Steps { get; set; } = 20;
    public double CfgScale { get; set; } = 7.5;
    public SeedMode SeedMode { get; set; } = SeedMode.Random;
    public long Seed { get; set; } = -1;
    public int Width { get; set; } = 512;
    public int Height { get; set; } = 512;
    public int BatchCount { get; set; } = 1;
    public int BatchSize { get; set; } = 1;
    public byte[]? InitImage { get; set; }
    public string? InitImageName { get; set; }

    /// <summary>The gallery image the init image came from ("img2img from this"); cleared when the init image changes.</summary>
    public string? ParentImageId { get; set; }
    public double Strength { get; set; } = 0.75;

    /// <summary>A1111's "Clip skip" (<c>CLIP_stop_at_last_layers</c>).</summary>
    public int ClipSkip { get; set; } = 1;

    /// <summary>A1111's <c>emphasis</c> mode; "None" makes brackets literal text.</summary>
    public string Emphasis { get; set; } = "Original";

    /// <summary>Names of saved styles (styles.csv) applied to the prompts on submit, in order.</summary>
    public IReadOnlyCollection<string> Styles { get; set; } = [];
    // Variation seeds (A1111's "Extra" seed options).
    public bool VariationEnabled { get; set; }
    public long Subseed { get; set; } = -1;
    public double SubseedStrength { get; set; }
    public int SeedResizeFromWidth { get; set; }
    public int SeedResizeFromHeight { get; set; }

    // Hires fix (txt2img only; its denoising strength is kept apart from img2img's).
    public bool EnableHr { get; set; }
    public string HrUpscaler { get; set; } = "Latent";
    public double HrScale { get; set; } = 2;
    public int HrSecondPassSteps { get; set; }
    public double HrDenoisingStrength { get; set; } = 0.7;
    public int HrResizeX { get; set; }
    public int HrResizeY { get; set; }
    public string HrSampler { get; set; } = "";
    public string HrPrompt { get; set; } = "";
    public string HrNegativePrompt { get; set; } = "";

    /// <summary>Fills the form from a request (gallery "use these settings" / "img2img from this"); a set seed becomes Fixed.</summary>
    public void Fill(GenerationRequest request, string? parentImageId = null)
    {
        Prompt = request.Prompt;
        NegativePrompt = request.NegativePrompt;
        Model = request.Model ?? Model;
        Sampler = request.Sampler;
        ScheduleType = request.ScheduleType;
        Steps = request.Steps;
        CfgScale = request.CfgScale;
        SeedMode = request.Seed >= 0 ? SeedMode.Fixed : SeedMode.Random;
        Seed = request.Seed;
        if (request.Width is { } width) Width = width;
        if (request.Height is { } height) Height = height;
        BatchCount = request.BatchCount;
        BatchSize = request.BatchSize;
        InitImage = request.InitImage;
        InitImageName = request.InitImage is null ? null : "from gallery";
        ParentImageId = request.InitImage is null ? null : parentImageId;
        Strength = request.Strength;
        ClipSkip = request.ClipSkip;
        Emphasis = request.Emphasis;
        VariationEnabled = request.SubseedStrength != 0 || request.SeedResizeFromWidth > 0;
        Subseed = request.Subseed;
        SubseedStrength = request.SubseedStrength;
        SeedResizeFromWidth = request.SeedResizeFromWidth;
        SeedResizeFromHeight = request.SeedResizeFromHeight;
        EnableHr = request.EnableHr;
        if (request.EnableHr)
        {
            HrUpscaler = request.HrUpscaler;
            HrScale = request.HrScale;
            HrSecondPassSteps = request.HrSecondPassSteps;
            HrDenoisingStrength = request.Strength;
            HrResizeX = request.HrResizeX;
            HrResizeY = request.HrResizeY;
            HrSampler = request.HrSampler ?? "";
            HrPrompt = request.HrPrompt ?? "";
            HrNegativePrompt = request.HrNegativePrompt ?? "";
        }
    }

    /// <param name="lastSeed">The resolved seed of the last finished job (for "reuse last").</param>
    public GenerationRequest ToRequest(long? lastSeed) => WithInpainting(WithImageTools(new()
    {
        Prompt = Prompt ?? "",
        NegativePrompt = NegativePrompt ?? "",
        Model = Model,
        Sampler = Sampler,
        ScheduleType = ScheduleType,
        Steps = Steps,
        CfgScale = CfgScale,
        Seed = SeedMode switch
        {
            SeedMode.Fixed => Seed,
            SeedMode.ReuseLast => lastSeed ?? -1,
            _ => -1,
        },
        Width = Width,
        Height = Height,
        BatchCount = BatchCount,
        BatchSize = BatchSize,
        InitImage = InitImage,
        Strength = Strength,
        ClipSkip = ClipSkip,
        Emphasis = Emphasis,
    }));

    private GenerationRequest WithImageTools(GenerationRequest request)
    {
        if (VariationEnabled)
        {
            request = request with
            {
                Subseed = Subseed,
                SubseedStrength = SubseedStrength,
                SeedResizeFromWidth = SeedResizeFromWidth,
                SeedResizeFromHeight = SeedResizeFromHeight,
            };
        }
        // Hires fix belongs to txt2img: with an init image the section is off (as A1111's img2img tab has none).
        if (!EnableHr || InitImage is not null) return request;
        return request with
        {
            EnableHr = true,
            HrUpscaler = HrUpscaler,
            HrScale = HrScale,
            HrSecondPassSteps = HrSecondPassSteps,
            Strength = HrDenoisingStrength,
            HrResizeX = HrResizeX,
            HrResizeY = HrResizeY,
            HrSampler = string.IsNullOrWhiteSpace(HrSampler) ? null : HrSampler,
            HrPrompt = string.IsNullOrWhiteSpace(HrPrompt) ? null : HrPrompt,
            HrNegativePrompt = string.IsNullOrWhiteSpace(HrNegativePrompt) ? null : HrNegativePrompt,
        };
    }
}
