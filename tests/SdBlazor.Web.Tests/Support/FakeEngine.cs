using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Previews;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// A stand-in engine for component tests only (they test markup and wiring, not diffusion): lists one model and
/// runs steps that report progress with a real JPEG previewer.
/// </summary>
internal sealed class FakeEngine : IGenerationEngine
{
    public static readonly ModelDescriptor Model = new("fake-mini", "/nowhere/fake-mini", 64, 64, true, null);

    public IReadOnlyList<ModelDescriptor> ListModels() => [Model];

    public void RefreshModels() { }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, IStepProgressSink? progress, CancellationToken cancellationToken, Func<bool>? skipImage = null)
    {
        var latents = new float[4 * 8 * 8];
        for (var step = 1; step <= request.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            latents[step % latents.Length] = step;
            progress?.OnStep(new StepProgress(0, 0, step, request.Steps, 1000f / step, TimeSpan.Zero, latents, 8, 8, GrayPreviewer.Instance));
        }
        var image = new Image<Rgb24>(request.Width ?? 64, request.Height ?? 64);
        var parameters = new ResolvedParameters(request.Prompt, request.NegativePrompt, Model.Name, null, request.Sampler, request.ScheduleType,
            request.Steps, request.CfgScale, request.Seed < 0 ? 42 : request.Seed, image.Width, image.Height, 1, 1, null, "{}", "CPU", "test", "CPU", TimeSpan.Zero);
        return Task.FromResult(new GenerationResult([new GeneratedImage(0, parameters.Seed, image)], parameters));
    }

    private sealed class GrayPreviewer : ILatentPreviewer
    {
        public static readonly GrayPreviewer Instance = new();

        public byte[] RenderJpeg(ReadOnlySpan<float> latents, int batchItem, int latentHeight, int latentWidth)
        {
            using var image = new Image<Rgb24>(latentWidth, latentHeight);
            using var output = new MemoryStream();
            image.SaveAsJpeg(output);
            return output.ToArray();
        }
    }
}
