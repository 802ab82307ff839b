using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Extras;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Components.Generation;

/// <summary>
/// The generation inputs. Messages come from the shared <see cref="GenerationRequestValidator"/> (the server runs it
/// again), each shown under the field it is about; an invalid form never submits.
/// </summary>
public partial class GenerateForm
{
    private IReadOnlyList<string> _errors = [];
    private bool _showSummary;
    private InpaintPanel? _inpaint;
    private ModelDescriptor? _appliedDefaults;

    [Parameter] public GenerateFormModel Model { get; set; } = new();
    [Parameter] public IReadOnlyList<ModelDescriptor> Models { get; set; } = [];

    /// <summary>Resolved seed of the last finished job, used by "Reuse last".</summary>
    [Parameter] public long? LastSeed { get; set; }

    [Parameter] public EventCallback<GenerationRequest> OnGenerate { get; set; }

    /// <summary>Counts a prompt's tokens for the chosen model (prompt, model, emphasis, steps); null: no counter shown.</summary>
    [Parameter] public Func<string, string?, string, int, PromptTokenCount?>? CountTokens { get; set; }

    /// <summary>Saved styles (styles.csv) offered in the styles picker.</summary>
    [Parameter] public IReadOnlyList<PromptStyle> Styles { get; set; } = [];

    /// <summary>Why styles.csv offers fewer (or no) styles than it holds; shown beside the picker.</summary>
    [Parameter] public string? StylesProblem { get; set; }

    /// <summary>LoRA, embedding and style names the prompt boxes complete.</summary>
    [Parameter] public IReadOnlyList<Prompts.PromptCompletion> Completions { get; set; } = [];

    private PromptTokenCount? PromptTokens => CountTokens?.Invoke(Model.Prompt, Model.Model, Model.Emphasis, Model.Steps);
    private PromptTokenCount? NegativeTokens => CountTokens?.Invoke(Model.NegativePrompt, Model.Model, Model.Emphasis, Model.Steps);
    // What each number may be, under its field until a wrong value replaces it with the validator's message.
    private static readonly string StepsHelp = $"{GenerationLimits.MinSteps}–{GenerationLimits.MaxSteps}";
    private static readonly string CfgHelp = $"{GenerationLimits.MinCfgScale}–{GenerationLimits.MaxCfgScale}";
    private static readonly string SizeHelp = $"multiple of {GenerationLimits.SizeMultiple}, {GenerationLimits.MinSize}–{GenerationLimits.MaxSize}";
    private static readonly string BatchCountHelp = $"1–{GenerationLimits.MaxBatchCount} runs";
    private static readonly string BatchSizeHelp = $"1–{GenerationLimits.MaxBatchSize} images per run";
    private static readonly string StrengthHelp = $"{GenerationLimits.MinStrength}–{GenerationLimits.MaxStrength}: how far from the init image";
    /// <summary>Hires upscaler choices: the latent modes, then the catalog's upscalers (built-ins by default).</summary>
    [Parameter] public IReadOnlyList<string> Upscalers { get; set; } = [.. ImageToolsLimits.LatentUpscalers, "Lanczos", "Nearest", "Bicubic"];

    private string HiresSizeText => Model.EnableHr && HiresSize.Target(Model.Width, Model.Height, Model.ToRequest(LastSeed)) is var (w, h)
        ? $"{Model.Width}×{Model.Height} → {w}×{h}"
        : "";

    private long SeedShown => Model.SeedMode switch
    {
        SeedMode.Fixed => Model.Seed,
        SeedMode.ReuseLast => LastSeed ?? -1,
        _ => -1,
    };

    protected override void OnParametersSet()
    {
        // The first time models are known: select one (the named default, else the first) and take its native size.
        if (_appliedDefaults is null && Models.Count > 0)
        {
            var model = Models.FirstOrDefault(m => m.Name == Model.Model) ?? Models[0];
            ApplyModel(model);
        }
        Recheck();
    }

    private void OnModelChanged(string? name)
    {
        if (Models.FirstOrDefault(m => m.Name == name) is { } model) ApplyModel(model);
        Recheck();
    }

    private void ApplyModel(ModelDescriptor model)
    {
        _appliedDefaults = model;
        Model.Model = model.Name;
        Model.Width = model.NativeWidth;
        Model.Height = model.NativeHeight;
    }

    private void OnSizeChosen((int Width, int Height) size)
    {
        (Model.Width, Model.Height) = size;
        Recheck();
    }

    // Only -1 means random (A1111): another negative number is a mistake the validator flags, not a silent "random".
    private void OnSeedTyped(long seed)
    {
        Model.Seed = seed;
        Model.SeedMode = seed == -1 ? SeedMode.Random : SeedMode.Fixed;
        Recheck();
    }

    private async Task OnKeyDown(KeyboardEventArgs e)
    {
        if (e is { CtrlKey: true, Key: "Enter" }) await SubmitAsync();
    }

    private async Task SubmitAsync()
    {
        if (_inpaint is not null && Model.InitImage is not null) await _inpaint.TakeMaskAsync();
        else Model.Mask = null;
        Recheck();
        _showSummary = _errors.Count > 0;
        if (_errors.Count > 0) return;
        await OnGenerate.InvokeAsync(WithStyles(Model.ToRequest(LastSeed)));
    }

    /// <summary>The chosen styles merged into the prompts, as A1111 does at generation (the text fields stay as typed).</summary>
    private GenerationRequest WithStyles(GenerationRequest request)
    {
        var chosen = Model.Styles.Select(name => Styles.FirstOrDefault(s => s.Name == name)).OfType<PromptStyle>().ToList();
        if (chosen.Count == 0) return request;
        return request with
        {
            Prompt = PromptStyleStore.Apply(request.Prompt, chosen.Select(s => s.Prompt)),
            NegativePrompt = PromptStyleStore.Apply(request.NegativePrompt, chosen.Select(s => s.NegativePrompt)),
        };
    }

    // A style accepted from the prompt box's completions joins the picker's choice.
    private void ChooseStyle(string name)
    {
        if (Styles.Any(s => s.Name == name) && !Model.Styles.Contains(name)) Model.Styles = [.. Model.Styles, name];
    }

    private void OnStylesChosen(IEnumerable<string>? names)
    {
        Model.Styles = names?.ToList() ?? [];
    }

    private void Recheck() => _errors = GenerationRequestValidator.Validate(Model.ToRequest(LastSeed));

    // Validator messages start with the field's label ("Steps must be …"), which is how each finds its field.
    private string? ErrorFor(string field) =>
        _errors.FirstOrDefault(e => e.StartsWith(field + " ", StringComparison.Ordinal));

    private bool HasError(string field) => ErrorFor(field) is not null;
}
