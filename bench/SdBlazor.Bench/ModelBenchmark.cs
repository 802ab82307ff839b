using System.Diagnostics;
using SixLabors.ImageSharp;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Bench;

/// <summary>
/// The real-scale report (issue 8) for one model folder at one size: our full pipeline and, in the same process on the
/// very same sessions, the bare ONNX Runtime calls it makes (text encoder, UNet per step, VAE decode).
/// </summary>
/// <remarks>
/// Phases, in order: session creation (no warm-up) → first image on cold sessions → warm images (plain, then with a
/// JPEG preview rendered at every step) → bare calls → unload (RSS released?) → a second engine that preloads with
/// the warm-up run, and its first image. Peak RSS is reset between phases on Linux, so each phase reports its own peak.
/// </remarks>
public static class ModelBenchmark
{
    private const string Prompt = "a photograph of a red cat sitting on a wooden chair, detailed, soft light";
    private const string NegativePrompt = "blurry, low quality";

    public static async Task RunAsync(BenchOptions options)
    {
        var modelPath = options.ModelPath!;
        var folder = ModelFolder.Describe(modelPath);
        var size = options.Size ?? folder.NativeWidth;
        var request = new GenerationRequest
        {
            Model = folder.Name, Prompt = Prompt, NegativePrompt = NegativePrompt, Steps = options.Steps, CfgScale = 7.5,
            Seed = 1, Width = size, Height = size, Sampler = options.Sampler,
        };
        using var memory = new MemoryProbe();
        var rssAtStart = MemoryProbe.CurrentRssBytes();

        Console.WriteLine($"== {folder.Name} ({modelPath}), {size}×{size} px, {options.Steps} steps, {options.Sampler}, CFG 7.5, batch 1 (UNet batch 2)");
        Console.WriteLine($"   machine                 {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
        Console.WriteLine($"   session options         intra-op threads {(options.Threads == 0 ? "ORT default" : options.Threads)}, CPU memory pattern {(options.MemoryPattern ? "on" : "off")}, graph optimisation ALL");

        // ---- phase 1: session creation and the first image on cold sessions
        var (sessions, engine) = CreateEngine(modelPath, options, warmUp: false);
        memory.ResetPeaks();
        var preload = await engine.PreloadAsync(folder.Name);
        var loadPeak = MemoryProbe.PeakRssBytes();
        var model = engine.Resident!;
        Console.WriteLine($"   execution provider      {model.ExecutionProvider}{DeviceNote(model.ExecutionProvider, options, sessions)}");
        Console.WriteLine($"   session creation        {preload.SessionCreation.TotalSeconds,10:F2} s    (all sessions; peak RSS while loading {MemoryProbe.GiB(loadPeak)}, RSS after {MemoryProbe.GiB(MemoryProbe.CurrentRssBytes())})");
        Console.WriteLine($"   optimised graphs        {CacheUse(model)}");

        memory.ResetPeaks();
        if (options.FirstImageOnly)
        {
            // A/B comparisons of two models (imported checkpoint vs folder): one image each, interleaved by the caller.
            var only = await TimeImageAsync(engine, request, new StepTimer(null), options.SaveImagePath);
            Console.WriteLine($"   first image             {only.Total / 1000,10:F2} s    (cold sessions; median step {only.Steps.MedianStepMilliseconds() / 1000:F2} s; peak RSS {MemoryProbe.GiB(MemoryProbe.PeakRssBytes())}; peak RSS while loading {MemoryProbe.GiB(loadPeak)})");
            engine.Dispose();
            return;
        }
        var first = await TimeImageAsync(engine, request, null, options.SaveImagePath);

        // ---- warm images, each followed by its share of the bare UNet runs: bare ONNX Runtime on the pipeline's own
        // session (same session options) and the very OrtValues the generation bound. Interleaving keeps a shared
        // machine's load changes from landing on one side of the comparison only.
        using var runOptions = new RunOptions();
        var unet = model.UNet;
        var images = options.Repeats + (options.Previews ? 1 : 0);
        var bareRuns = options.BareRuns ?? options.Steps;
        var bareTimes = new List<double>();
        void BareShare() => bareTimes.AddRange(TimeRuns((bareRuns + images - 1) / images, () => unet.RunSessionOnly(runOptions)));

        var warm = new List<(double Total, StepTimer Steps)>();
        for (var r = 0; r < options.Repeats; r++)
        {
            warm.Add(await TimeImageAsync(engine, request, new StepTimer(null)));
            BareShare();
        }
        var warmImage = warm.Min(w => w.Total);
        var step = warm.Min(w => w.Steps.MedianStepMilliseconds());
        var previewTimes = new List<double>();
        double? stepWithPreview = null;
        if (options.Previews)
        {
            var previewing = await TimeImageAsync(engine, request, new StepTimer(previewTimes));
            stepWithPreview = previewing.Steps.MedianStepMilliseconds();
            BareShare();
        }
        var generatePeak = MemoryProbe.PeakRssBytes();
        var managedPeak = memory.PeakManagedBytes;
        var bareUNet = Stats.Median(bareTimes);
        var (bareText, engineText) = TimeTextEncoder(model, runOptions, Math.Max(3, options.Repeats));
        var (bareVae, engineVae) = TimeVaeDecoder(model, size / ModelFolder.VaeScale, runOptions, options.Repeats);
        var bareImage = 2 * bareText + options.Steps * bareUNet + bareVae;

        Console.WriteLine($"   time per step           {step,10:F1} ms   (median step of the pipeline, best of {options.Repeats} warm image(s))");
        Console.WriteLine($"   bare UNet Run           {bareUNet,10:F1} ms   (median of {bareTimes.Count}, after each warm image: InferenceSession.Run on the pipeline's OrtValues)");
        Console.WriteLine($"   pipeline overhead       {Stats.Over(step, bareUNet),10}     ({step - bareUNet:F2} ms per step; target ≤ 3 %)");
        if (stepWithPreview is { } withPreview)
        {
            var render = Stats.Median(previewTimes);
            Console.WriteLine($"   preview render          {render,10:F2} ms   ({100 * render / bareUNet:F2} % of a bare UNet run; latent → RGB → JPEG, every step)");
            Console.WriteLine($"   step with previews      {withPreview,10:F1} ms   overhead incl. previews {Stats.Over(withPreview, bareUNet)} (target ≤ 5 %)");
        }
        Console.WriteLine($"   text encoder            {engineText,10:F1} ms   (engine call; bare Run {bareText:F1} ms; twice per image with CFG)");
        Console.WriteLine($"   VAE decode              {engineVae,10:F1} ms   (engine call; bare Run {bareVae:F1} ms)");
        Console.WriteLine($"   warm image              {warmImage / 1000,10:F2} s    (request to images; bare calls add up to {bareImage / 1000:F2} s: {Stats.Over(warmImage, bareImage)})");
        Console.WriteLine($"   first image, cold       {first.Total / 1000,10:F2} s    (first image on fresh sessions; warm-up cost {(first.Total - warmImage) / 1000:F2} s)");
        var coldStart = preload.SessionCreation.TotalMilliseconds + first.Total;
        Console.WriteLine($"   first image after start {coldStart / 1000,10:F2} s    (session creation + cold image) = {coldStart / warmImage:F2} × warm (target ≤ 1.3 ×)");
        Console.WriteLine($"   peak RSS generating     {MemoryProbe.GiB(generatePeak),10}     ({(memory.CanResetRssPeak ? "since the load finished" : "process lifetime")}; target ≤ 6 GiB at 512×512 CFG on CPU)");
        Console.WriteLine($"   peak managed heap       {MemoryProbe.MiB(managedPeak),10}");

        // ---- unload: does the memory go back?
        var rssLoaded = MemoryProbe.CurrentRssBytes();
        engine.Dispose();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var rssUnloaded = MemoryProbe.CurrentRssBytes();
        var trimmed = NativeHeap.Trim();
        var rssTrimmed = MemoryProbe.CurrentRssBytes();
        Console.WriteLine($"   RSS after unload        {MemoryProbe.GiB(rssUnloaded),10}     (loaded {MemoryProbe.GiB(rssLoaded)}, at start {MemoryProbe.GiB(rssAtStart)}{(trimmed ? $"; after malloc_trim {MemoryProbe.GiB(rssTrimmed)}" : "")})");

        // ---- phase 2: a fresh engine that preloads with the warm-up run, then its first image
        if (options.WarmUpPhase)
        {
            var (_, warmed) = CreateEngine(modelPath, options, warmUp: true);
            using (warmed)
            {
                var timings = await warmed.PreloadAsync(folder.Name, size);
                var afterWarmUp = await TimeImageAsync(warmed, request, null);
                var total = timings.SessionCreation.TotalMilliseconds + timings.WarmUp.TotalMilliseconds + afterWarmUp.Total;
                Console.WriteLine($"   preload with warm-up    {timings.SessionCreation.TotalSeconds,10:F2} s + {timings.WarmUp.TotalSeconds:F2} s warm-up (one text encoder + one UNet run at {size}×{size}; optimised graphs: {CacheUse(warmed.Resident!)})");
                Console.WriteLine($"   first image after it    {afterWarmUp.Total / 1000,10:F2} s    = {afterWarmUp.Total / warmImage:F2} × warm; request at start-up: {total / 1000:F2} s = {total / warmImage:F2} × warm");
            }
        }

        Console.WriteLine();
        Console.WriteLine("   | model | size | step | bare UNet | overhead | with previews | text enc. | VAE decode | warm image | first after start | sessions | peak RSS | peak managed | provider |");
        Console.WriteLine($"   | {folder.Name} | {size} | {step / 1000:F2} s | {bareUNet / 1000:F2} s | {Stats.Over(step, bareUNet)} | {(stepWithPreview is { } p ? Stats.Over(p, bareUNet) : "—")} | {engineText / 1000:F2} s | {engineVae / 1000:F2} s | {warmImage / 1000:F1} s | {coldStart / warmImage:F2} × | {preload.SessionCreation.TotalSeconds:F1} s | {MemoryProbe.GiB(generatePeak)} | {MemoryProbe.MiB(managedPeak)} | {model.ExecutionProvider} |");
        Console.WriteLine();
    }

    private static (SessionFactory, GenerationEngine) CreateEngine(string modelPath, BenchOptions options, bool warmUp)
    {
        var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = Path.GetDirectoryName(modelPath)!,
            DefaultModel = Path.GetFileName(modelPath),
            ExecutionProvider = options.Provider,
            IntraOpThreads = options.Threads,
            DeviceId = options.DeviceId,
            CpuMemoryPattern = options.MemoryPattern,
            WarmUpOnLoad = warmUp,
            UseTaesdPreviews = false,
            OptimizedModelCache = options.OptimizedCache,
            OptimizedModelCachePath = options.OptimizedCachePath ?? "",
        });
        var sessions = new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance);
        var registry = new ModelRegistry(engineOptions, NullLogger<ModelRegistry>.Instance);
        return (sessions, new GenerationEngine(registry, sessions, engineOptions, NullLogger<GenerationEngine>.Instance));
    }

    /// <summary>Per session: made from the saved optimised graph, optimised and saved, or plain (<see cref="OptimizedModelCache"/>).</summary>
    private static string CacheUse(LoadedModel model)
    {
        var sessions = new List<OnnxSession> { model.TextEncoder.Session, model.UNet.Session, model.VaeDecoder.Session };
        if (model.VaeEncoder is { } encoder) sessions.Add(encoder.Session);
        return string.Join(", ", sessions.Select(s => $"{s.Role} {s.Cache switch
        {
            OptimizedCacheUse.Loaded => "loaded saved graph",
            OptimizedCacheUse.Written => "optimised + saved",
            _ => "not cached",
        }}"));
    }

    private static string DeviceNote(string provider, BenchOptions options, SessionFactory sessions)
    {
        if (provider != SessionFactory.Cpu) return $" (device id {options.DeviceId})";
        var notes = new[] { SessionFactory.Cuda, SessionFactory.DirectML }
            .Select(p => sessions.UnavailableCause(p) is { } cause ? $"{p} unavailable: {cause}" : null)
            .OfType<string>().ToArray();
        return notes.Length == 0 ? "" : $" ({string.Join("; ", notes)})";
    }

    private static async Task<(double Total, StepTimer Steps)> TimeImageAsync(GenerationEngine engine, GenerationRequest request,
        StepTimer? timer, string? savePath = null)
    {
        timer ??= new StepTimer(null);
        var clock = Stopwatch.StartNew();
        using (var result = await engine.GenerateAsync(request, timer, CancellationToken.None))
        {
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (savePath is not null)
            {
                // Lets two exports of the same weights (e.g. matmul vs fused attention) be compared pixel by pixel.
                await result.Images[0].Image.SaveAsPngAsync(savePath);
                Console.WriteLine($"   image saved             {savePath} (seed {result.Images[0].Seed})");
            }
            return (elapsed, timer);
        }
    }

    private static double[] TimeRuns(int count, Action run)
    {
        var times = new double[count];
        for (var i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return times;
    }

    /// <summary>Medians (ms) of <paramref name="bare"/> and <paramref name="engine"/>, alternating so that load changes on a shared machine hit both alike.</summary>
    private static (double Bare, double Engine) Interleaved(int runs, Action bare, Action engine)
    {
        var b = new double[runs];
        var e = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            b[i] = TimeRuns(1, bare)[0];
            e[i] = TimeRuns(1, engine)[0];
        }
        return (Stats.Median(b), Stats.Median(e));
    }

    /// <summary>Median (bare Run on a prepared input, engine's <see cref="TextEncoderRunner.Encode"/>) in ms.</summary>
    private static (double Bare, double Engine) TimeTextEncoder(LoadedModel model, RunOptions runOptions, int runs)
    {
        var session = model.TextEncoder.Session;
        var input = session.InputName("input_ids", 0);
        var output = session.OutputName("last_hidden_state", 0);
        var ids = model.Tokenizer.Encode(Prompt);
        long[] shape = [1, ids.Length];
        using var value = session.InputMetadata(input).ElementDataType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(ids, shape);
        return Interleaved(runs, () =>
        {
            using var outputs = session.Session.Run(runOptions, [input], [value], [output]);
        }, () => model.TextEncoder.Encode(ids, runOptions, out _));
    }

    private static (double Bare, double Engine) TimeVaeDecoder(LoadedModel model, int latentSize, RunOptions runOptions, int runs)
    {
        var session = model.VaeDecoder.Session;
        var input = session.InputName("latent_sample", 0);
        var output = session.OutputName("sample", 0);
        var random = new Random(1);
        var latents = new float[StableDiffusionPipeline.LatentChannels * latentSize * latentSize];
        for (var i = 0; i < latents.Length; i++) latents[i] = (float)(random.NextDouble() * 2 - 1);
        long[] shape = [1, StableDiffusionPipeline.LatentChannels, latentSize, latentSize];
        using var value = OnnxSession.CreateFloatTensor(session.InputMetadata(input).ElementDataType, latents, shape);
        return Interleaved(runs, () =>
        {
            using var outputs = session.Session.Run(runOptions, [input], [value], [output]);
        }, () => model.VaeDecoder.Decode(latents, StableDiffusionPipeline.LatentChannels, latentSize, latentSize, runOptions, out _));
    }
}
