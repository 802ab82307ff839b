using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Imaging;

public static class ResolvedParametersExtensions
{
    /// <summary>The metadata of one image of a generation (each image has its own seed: resolved seed + index).</summary>
    public static ImageParameters ToImageParameters(this ResolvedParameters p, long imageSeed) => new ImageParameters
    {
        Prompt = p.Prompt,
        NegativePrompt = p.NegativePrompt,
        Seed = imageSeed,
        Steps = p.Steps,
        CfgScale = p.CfgScale,
        Sampler = p.Sampler,
        ScheduleType = p.ScheduleType,
        Width = p.Width,
        Height = p.Height,
        Model = p.Model,
        ModelSha256 = p.ModelSha256,
        SchedulerConfig = p.SchedulerConfigJson,
        Rng = p.Rng,
        EngineVersion = p.EngineVersion,
        ExecutionProvider = p.ExecutionProvider,
        Duration = p.Duration,
        Strength = p.Strength,
        ClipSkip = p.ClipSkip,
        Emphasis = p.Emphasis,
    }.WithImageTools(p, imageSeed);

    /// <summary>Adds the variation-seed and hires-fix fields of image <paramref name="imageSeed"/> (its subseed moves with its seed).</summary>
    public static ImageParameters WithImageTools(this ImageParameters image, ResolvedParameters p, long imageSeed) => image with
    {
        Subseed = p.Variation is { Strength: not 0 } ? p.Subseed + (imageSeed - p.Seed) : null,
        SubseedStrength = p.Variation is { Strength: not 0 } v ? v.Strength : null,
        SeedResizeFromWidth = p.Variation is { IsResized: true } r ? r.ResizeFromWidth : null,
        SeedResizeFromHeight = p.Variation is { IsResized: true } r2 ? r2.ResizeFromHeight : null,
        Hires = p.Hires,
        MaskBlur = p.MaskBlur,
        ConditionalMaskWeight = p.ConditionalMaskWeight,
        MaskedAreaPadding = p.MaskedAreaPadding,
        NoiseMultiplier = p.NoiseMultiplier,
        Refiner = p.Refiner,
        RefinerSwitchAt = p.RefinerSwitchAt,
        // A1111 writes the first pass's size; the hires size follows from it.
        Width = p.Hires is null ? image.Width : p.Width,
        Height = p.Hires is null ? image.Height : p.Height,
    };
}
