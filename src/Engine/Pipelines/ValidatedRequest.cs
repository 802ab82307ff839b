using SdBlazor.Engine.Models;
using SdBlazor.Engine.Schedulers;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Pipelines;

/// <summary>A request that passed validation, with every default resolved (model, size, sampler spelling). Owns the decoded init image.</summary>
public sealed record ValidatedRequest(
    GenerationRequest Request,
    ModelFolder Model,
    SamplerChoice Sampler,
    int Width,
    int Height,
    Image<Rgb24>? InitImage) : IDisposable
{
    public bool IsImg2Img => InitImage is not null;
    public bool UsesGuidance => Request.CfgScale > 1;

    public void Dispose() => InitImage?.Dispose();
}
