using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests;

/// <summary>
/// Memory admission (issue 27) runs a batch that does not fit as smaller UNet batches. That is only allowed because
/// each image's noise comes from its own generator (seed + index): the images must be the same as from one batch.
/// </summary>
public sealed class BatchSplitTests
{
    [DefaultModelFact]
    public async Task A_batch_run_in_parts_gives_the_same_images_as_one_batch()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new EngineOptions { ModelsPath = DefaultModel.ModelsPath!, ExecutionProvider = ExecutionProviderKind.Cpu });
        using var engine = new GenerationEngine(new ModelRegistry(options, NullLogger<ModelRegistry>.Instance),
            new SessionFactory(options, NullLogger<SessionFactory>.Instance), options, NullLogger<GenerationEngine>.Instance);
        foreach (var sampler in new[] { "Euler a", "DPM++ 2M" })
        {
            var request = new GenerationRequest { Prompt = "a red circle on a blue background", Seed = 42, Steps = 6, BatchSize = 3, BatchCount = 2, Sampler = sampler };

            using var whole = await engine.GenerateAsync(request, null, CancellationToken.None);
            using var parts = await engine.GenerateAsync(request, null, CancellationToken.None, imagesPerUNetBatch: 2);

            Assert.Equal(6, parts.Images.Count);
            Assert.Equal(whole.Images.Select(i => (i.Index, i.Seed)), parts.Images.Select(i => (i.Index, i.Seed)));
            for (var i = 0; i < whole.Images.Count; i++)
            {
                var a = whole.Images[i].Image;
                var b = parts.Images[i].Image;
                var worst = 0;
                for (var y = 0; y < a.Height; y++)
                    for (var x = 0; x < a.Width; x++)
                    {
                        Rgb24 p = a[x, y], q = b[x, y];
                        worst = Math.Max(worst, Math.Max(Math.Abs(p.R - q.R), Math.Max(Math.Abs(p.G - q.G), Math.Abs(p.B - q.B))));
                    }
                // Batched and unbatched kernels may round differently in the last bit; a visible difference would be ≫ 2 levels.
                Assert.True(worst <= 2, $"{sampler}, image {i}: max difference {worst} levels");
            }
        }
    }
}
