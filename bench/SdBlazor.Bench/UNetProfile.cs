using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine;
using SdBlazor.Engine.Onnx;

namespace SdBlazor.Bench;

/// <summary>
/// <c>--profile-unet</c>: where one bare UNet call (batch 2, as with CFG) spends its time, summed by ONNX op type from
/// ONNX Runtime's own profiler, on a session made by the engine's <see cref="SessionFactory"/> (same options as a
/// generation, plus <see cref="EngineOptions.ProfileOutputPrefix"/>). Answers "is it the convolutions, attention or the
/// GroupNorm pattern" without guessing.
/// </summary>
public static class UNetProfile
{
    public static void Run(BenchOptions options)
    {
        var size = options.Size ?? 512;
        var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
        {
            ExecutionProvider = options.Provider,
            IntraOpThreads = options.Threads,
            DeviceId = options.DeviceId,
            CpuMemoryPattern = options.MemoryPattern,
            ProfileOutputPrefix = Path.Combine(Path.GetTempPath(), $"sdblazor-unet-profile-{Environment.ProcessId}"),
        });
        var sessions = new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance);
        using var unet = sessions.Create(Path.Combine(options.ModelPath!, "unet", "model.onnx"), "unet");
        var session = unet.Session;

        var latent = size / 8;
        var context = session.InputMetadata["encoder_hidden_states"].Dimensions[2];
        var random = new Random(1);
        float[] Noise(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        using var sample = OrtValue.CreateTensorValueFromMemory(Noise(2 * 4 * latent * latent), [2, 4, latent, latent]);
        using var timestep = session.InputMetadata["timestep"].ElementDataType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(new long[] { 500, 500 }, [2])
            : OrtValue.CreateTensorValueFromMemory(new float[] { 500, 500 }, [2]);
        using var hidden = OrtValue.CreateTensorValueFromMemory(Noise(2 * 77 * context), [2, 77, context]);
        using var runOptions = new RunOptions();
        string[] names = ["sample", "timestep", "encoder_hidden_states"];
        OrtValue[] inputs = [sample, timestep, hidden];
        var output = session.OutputMetadata.Keys.First();

        Console.WriteLine($"   execution provider {unet.ExecutionProvider}");
        for (var run = 0; run < 2; run++) // the first run pays for allocations and pre-packing; the second is profiled
        {
            var clock = Stopwatch.StartNew();
            using var outputs = session.Run(runOptions, names, inputs, [output]);
            Console.WriteLine($"   UNet run {run + 1} at {size}×{size}, batch 2: {clock.Elapsed.TotalSeconds:F2} s");
        }
        var file = session.EndProfiling();
        Report(file);
        File.Delete(file);
    }

    /// <summary>Sums the last <c>model_run</c>'s node events (kernel time, µs) by op type.</summary>
    private static void Report(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        var events = json.RootElement.EnumerateArray().ToList();
        var lastRun = events.Last(e => e.GetProperty("name").GetString() == "model_run");
        var start = lastRun.GetProperty("ts").GetInt64();
        var end = start + lastRun.GetProperty("dur").GetInt64();
        var byOp = events
            .Where(e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            .Where(e => e.GetProperty("ts").GetInt64() >= start && e.GetProperty("ts").GetInt64() <= end)
            .GroupBy(e => e.GetProperty("args").GetProperty("op_name").GetString()!)
            .Select(g => (Op: g.Key, Count: g.Count(), Micros: g.Sum(e => e.GetProperty("dur").GetInt64())))
            .OrderByDescending(x => x.Micros)
            .ToList();
        var total = byOp.Sum(x => x.Micros);
        Console.WriteLine($"   profiled run: {lastRun.GetProperty("dur").GetInt64() / 1e6:F2} s, kernels {total / 1e6:F2} s");
        Console.WriteLine("   | op type | nodes | time | share |");
        Console.WriteLine("   |---|---|---|---|");
        foreach (var (op, count, micros) in byOp.Take(14))
            Console.WriteLine($"   | {op} | {count} | {micros / 1e3:F0} ms | {100.0 * micros / total:F1} % |");
    }
}
