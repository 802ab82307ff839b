using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Engine.Imaging;

public static class ResolvedParametersExtensions
{
    /// <summary>The metadata of one image of a generation (each image has its own seed: resolved seed + index).</summary>
    public static ImageParameters ToImageParameters(this ResolvedParameters p, long imageSeed) => new()
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
    };
}
