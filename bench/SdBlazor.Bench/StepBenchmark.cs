using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Bench;

/// <summary>
/// Per-step cost of the pipeline against the bare UNet call: the same session, the same OrtValues, a straight
/// <c>InferenceSession.Run</c>. Overhead = pipeline step ÷ bare run − 1 (scheduler, guidance, fp16 conversion,
/// progress). Previews: the same generation with a sink that renders a JPEG preview at every step.
/// </summary>
public static class StepBenchmark
{
    public static async Task RunAsync(string title, string modelPath, BenchOptions options, int? size = null)
    {
        var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = Path.GetDirectoryName(modelPath)!,
            DefaultModel = Path.GetFileName(modelPath),
            ExecutionProvider = ExecutionProviderKind.Auto,
            IntraOpThreads = options.Threads,
            PreloadDefaultModel = false,
            WarmUpOnLoad = false,
        });
        var registry = new ModelRegistry(engineOptions, NullLogger<ModelRegistry>.Instance);
        using var engine = new GenerationEngine(registry, new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance), engineOptions, NullLogger<GenerationEngine>.Instance);
        var request = new GenerationRequest { Prompt = "a photograph of a red cat", NegativePrompt = "blurry", Steps = options.Steps, CfgScale = 7.5, Seed = 1, Width = size, Height = size };

        // Warm-up: loads the sessions and lets ORT settle its allocations.
        using (await engine.GenerateAsync(request with { Steps = 2 }, null, CancellationToken.None)) { }
        var unet = engine.Resident!.UNet;

        var plain = new double[options.Repeats];
        var withPreview = new double[options.Repeats];
        var bare = new double[options.Repeats];
        var previewMs = new List<double>();
        for (var r = 0; r < options.Repeats; r++)
        {
            var timing = new StepTimer(null);
            using (await engine.GenerateAsync(request, timing, CancellationToken.None)) { }
            plain[r] = timing.MedianStepMilliseconds();

            var previewing = new StepTimer(previewMs);
            using (await engine.GenerateAsync(request, previewing, CancellationToken.None)) { }
            withPreview[r] = previewing.MedianStepMilliseconds();

            // Bare UNet: buffers are still bound from the last generation (same shape, same OrtValues).
            using var runOptions = new RunOptions();
            var runs = new double[options.Steps];
            for (var i = 0; i < runs.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                unet.RunSessionOnly(runOptions);
                runs[i] = sw.Elapsed.TotalMilliseconds;
            }
            bare[r] = Median(runs);
        }

        var step = plain.Min();
        var stepPreview = withPreview.Min();
        var run = bare.Min();
        var preview = Median(previewMs.ToArray());
        var latents = engine.Resident.UNet.Sample.Length / unet.Batch / 4;
        var side = (int)Math.Sqrt(latents) * 8;
        Console.WriteLine($"== {title}, {side}×{side} px: {engine.Resident.Folder.Path}");
        Console.WriteLine($"   execution provider      {engine.Resident.ExecutionProvider}, UNet batch {unet.Batch} (CFG), {unet.SampleType}");
        Console.WriteLine($"   time per step           {step,10:F3} ms   (median step, best of {options.Repeats} runs)");
        Console.WriteLine($"   bare UNet Run           {run,10:F3} ms   (same OrtValues, straight session.Run)");
        Console.WriteLine($"   pipeline overhead       {Ratio(step, run)}   ({step - run:F3} ms per step; target ≤ 3%)");
        Console.WriteLine($"   preview render          {preview,10:F3} ms   ({100 * preview / step:F2} % of a step)");
        Console.WriteLine($"   step with previews      {stepPreview,10:F3} ms   overhead incl. previews {Ratio(stepPreview, run)}   (target ≤ 5%)");
        Console.WriteLine();
    }

    private static string Ratio(double step, double bare) => $"{100 * (step - bare) / bare,9:F2} %";

    private static double Median(double[] values) => Stats.Median(values);
}
