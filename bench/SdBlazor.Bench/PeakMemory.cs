using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Bench;

/// <summary>
/// <c>--peak-rss</c>: one generation (2 steps; the peak does not grow with steps) at one size and batch in a fresh
/// process, printing RSS after the model loaded and the peak RSS of the run. scripts/measure-memory.sh calls this once
/// per point, because ONNX Runtime's arena never shrinks, so one process cannot measure several points.
/// The figures feed <c>JobMemoryEstimator</c> (docs/performance.md, "Memory per job").
/// </summary>
public static class PeakMemory
{
    /// <summary>One generation of a series: its first callback (prompt + first, cold-shape step), later steps, image time, peak RSS.</summary>
    private static async Task RunOneAsync(GenerationEngine engine, MemoryProbe memory, string model, int size, double cfg, int steps, int batch)
    {
        GC.Collect();
        var before = MemoryProbe.CurrentRssBytes();
        memory.ResetPeaks();
        var clock = Stopwatch.StartNew();
        var timer = new StepTimer(null);
        using (await engine.GenerateAsync(new GenerationRequest
        {
            Model = model, Prompt = "a red circle on a blue background, center", Steps = steps, CfgScale = cfg, Seed = 1,
            Width = size, Height = size, BatchSize = batch,
        }, timer, CancellationToken.None)) { }
        Console.WriteLine($"   {size}² CFG {cfg:0.##} × {steps} step(s): image {clock.Elapsed.TotalSeconds:F1} s, prompt + first step {timer.FirstCallbackMilliseconds / 1000:F2} s, "
            + $"later steps {string.Join(" / ", timer.Steps.Select(t => $"{t / 1000:F2}"))} s (median {timer.MedianStepMilliseconds() / 1000:F2} s), "
            + $"RSS before {MemoryProbe.GiB(before)}, peak {MemoryProbe.GiB(MemoryProbe.PeakRssBytes())}");
    }

    public static async Task RunAsync(BenchOptions options)
    {
        var modelPath = options.ModelPath!;
        var folder = ModelFolder.Describe(modelPath);
        var size = options.Size ?? folder.NativeWidth;
        var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = Path.GetDirectoryName(modelPath)!,
            DefaultModel = Path.GetFileName(modelPath),
            ExecutionProvider = options.Provider,
            IntraOpThreads = options.Threads,
            UseTaesdPreviews = false,
            OptimizedModelCache = options.OptimizedCache,
            OptimizedModelCachePath = options.OptimizedCachePath ?? "",
        });
        var sessions = new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance);
        var registry = new ModelRegistry(engineOptions, NullLogger<ModelRegistry>.Instance);
        using var engine = new GenerationEngine(registry, sessions, engineOptions, NullLogger<GenerationEngine>.Instance);
        using var memory = new MemoryProbe();

        var load = Stopwatch.StartNew();
        await engine.PreloadAsync(folder.Name);
        load.Stop();
        byte[]? init = null;
        if (options.Img2Img)
        {
            using var image = new Image<Rgb24>(size, size, new Rgb24(120, 60, 200));
            using var png = new MemoryStream();
            await image.SaveAsPngAsync(png);
            init = png.ToArray();
        }
        if (options.Series is { } series)
        {
            Console.WriteLine($"   model load {load.Elapsed.TotalSeconds:F1} s, RSS {MemoryProbe.GiB(MemoryProbe.CurrentRssBytes())}, peak {MemoryProbe.GiB(MemoryProbe.PeakRssBytes())}");
            foreach (var entry in series.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = entry.Split(':');
                var (px, cfg, n) = (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
                    double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
                await RunOneAsync(engine, memory, folder.Name, px, cfg, n, options.Batch);
            }
            return;
        }
        GC.Collect();
        var loaded = MemoryProbe.CurrentRssBytes();
        memory.ResetPeaks();
        var clock = Stopwatch.StartNew();
        var timer = new StepTimer(null);
        var steps = options.RunSteps ?? (options.SaveImagePath is null ? 2 : options.Steps);
        using (var result = await engine.GenerateAsync(new GenerationRequest
        {
            Model = folder.Name, Prompt = "a red circle on a blue background, center", Steps = steps, CfgScale = options.Cfg, Seed = 1,
            Width = size, Height = size, BatchSize = options.Batch, InitImage = init, Strength = 1,
        }, timer, CancellationToken.None))
        {
            // To compare two exports of the same weights (matmul vs fused attention) pixel by pixel.
            if (options.SaveImagePath is { } path) await result.Images[0].Image.SaveAsPngAsync(path);
        }
        var peak = MemoryProbe.PeakRssBytes();
        // One parseable line: model size batch img2img loadedRSS peakRSS seconds.
        Console.WriteLine($"peak-rss {folder.Name} {size} {options.Batch} {(options.Img2Img ? "img2img" : "txt2img")} {loaded} {peak} {clock.Elapsed.TotalSeconds:F1}");
        if (options.RunSteps is not null)
        {
            // The first callback includes prompt encoding and the first (cold-shape) step; later steps are warm.
            Console.WriteLine($"   {steps} step(s) at CFG {options.Cfg:0.##}: model load {load.Elapsed.TotalSeconds:F1} s, prompt + first step {timer.FirstCallbackMilliseconds / 1000:F2} s, "
                + $"later steps {string.Join(" / ", timer.Steps.Select(t => $"{t / 1000:F2}"))} s (median {timer.MedianStepMilliseconds() / 1000:F2} s), "
                + $"image {clock.Elapsed.TotalSeconds:F1} s, RSS loaded {MemoryProbe.GiB(loaded)}, peak {MemoryProbe.GiB(peak)}");
        }
    }
}
