using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;

namespace SdBlazor.Bench;

/// <summary>
/// Time to switch a LoRA on (issue 30): a small image on the base model (warm), then the same request with
/// <c>&lt;lora:NAME:1&gt;</c> (first use: merge into a cached variant folder + session creation + image), back to the base,
/// and the LoRA again (from the variant cache). The image is 64×64 with 2 steps so the numbers are the switch itself.
/// </summary>
internal static class LoraSwitchBenchmark
{
    public static async Task RunAsync(BenchOptions options)
    {
        var modelPath = options.ModelPath!;
        var lora = options.LoraPath!;
        var cache = options.CheckpointCachePath ?? Path.Combine(Path.GetTempPath(), "sdblazor-lora-bench");
        var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ModelsPath = Path.GetDirectoryName(modelPath)!,
            DefaultModel = Path.GetFileName(modelPath),
            ExecutionProvider = options.Provider,
            IntraOpThreads = options.Threads,
            WarmUpOnLoad = false,
            UseTaesdPreviews = false,
            OptimizedModelCache = options.OptimizedCache,
            OptimizedModelCachePath = options.OptimizedCachePath ?? "",
            LoraPath = Path.GetDirectoryName(lora)!,
            CheckpointCachePath = cache,
        });
        var log = new MergeLog();
        var sessions = new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance);
        var registry = new ModelRegistry(engineOptions, NullLogger<ModelRegistry>.Instance);
        using var engine = new GenerationEngine(registry, sessions, engineOptions, log);
        var name = Path.GetFileNameWithoutExtension(lora);
        Console.WriteLine($"LoRA switch — model {Path.GetFileName(modelPath)}, LoRA {Path.GetFileName(lora)} ({new FileInfo(lora).Length / (1 << 20)} MiB), variants in {cache}, {options.Threads} threads");

        async Task<double> Time(string label, string prompt)
        {
            var request = new GenerationRequest { Prompt = prompt, NegativePrompt = "", Seed = 1, Steps = 2, CfgScale = 7, Width = 64, Height = 64, Sampler = "Euler" };
            var clock = Stopwatch.StartNew();
            using var result = await engine.GenerateAsync(request, null, CancellationToken.None);
            var seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"   {label,-44} {seconds,7:F1} s{(result.Parameters.Warnings.Count > 0 ? "  warnings: " + string.Join(" | ", result.Parameters.Warnings) : "")}");
            return seconds;
        }

        await Time("base, first (sessions created)", "a cat");
        var warm = await Time("base, warm (64×64, 2 steps)", "a cat");
        var first = await Time($"<lora:{name}:1> first use (merge + load)", $"a cat <lora:{name}:1>");
        var merge = log.LastMergeSeconds;
        var back = await Time("back to the base model", "a cat");
        var cached = await Time($"<lora:{name}:1> again (cached variant)", $"a cat <lora:{name}:1>");
        var sameSet = await Time($"<lora:{name}:1> once more (resident)", $"a cat <lora:{name}:1>");
        Console.WriteLine();
        Console.WriteLine("   | model | LoRA | merge (first use) | first switch | cached switch | back to base | same LoRA again | warm 64² image |");
        Console.WriteLine($"   | {Path.GetFileName(modelPath)} | {Path.GetFileName(lora)} | {merge:F1} s | {first - warm:F1} s | {cached - warm:F1} s | {back - warm:F1} s | {sameSet - warm:F1} s | {warm:F1} s |");
        Console.WriteLine("   (switch columns: request time minus the warm image's)");
    }

    /// <summary>Picks the engine's "LoRA set … ready in X s" line (merge or cache look-up, without session creation).</summary>
    private sealed class MergeLog : ILogger<GenerationEngine>
    {
        public double LastMergeSeconds { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (!message.StartsWith("LoRA set", StringComparison.Ordinal)) return;
            var at = message.LastIndexOf(" in ", StringComparison.Ordinal);
            if (at > 0 && double.TryParse(message[(at + 4)..].TrimEnd(' ', 's'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s)) LastMergeSeconds = s;
            Console.WriteLine($"      {message}");
        }
    }
}
