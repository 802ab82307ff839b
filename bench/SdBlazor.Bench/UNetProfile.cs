using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine;
using SdBlazor.Engine.Onnx;

namespace SdBlazor.Bench;

/// <summary>
/// <c>--profile-unet</c>: where one bare UNet call (batch 2, as with CFG) and one VAE decode spend their time, summed by ONNX op type from
/// ONNX Runtime's own profiler, on a session made by the engine's <see cref="SessionFactory"/> (same options as a
/// generation, plus <see cref="EngineOptions.ProfileOutputPrefix"/>). Answers "is it the convolutions, attention or the
/// GroupNorm pattern" without guessing, and, with the arithmetic each kernel did and the rate ONNX Runtime's kernels reach
/// on this machine (<see cref="KernelRate"/>), how far the call is from what the hardware allows.
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
        var latent = size / 8;
        var random = new Random(1);
        float[] Noise(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];

        double unetFlop, vaeFlop;
        using (var unet = sessions.Create(Path.Combine(options.ModelPath!, "unet", "model.onnx"), "unet"))
        {
            var session = unet.Session;
            var context = session.InputMetadata["encoder_hidden_states"].Dimensions[2];
            using var sample = OrtValue.CreateTensorValueFromMemory(Noise(2 * 4 * latent * latent), [2, 4, latent, latent]);
            using var timestep = session.InputMetadata["timestep"].ElementDataType == TensorElementType.Int64
                ? OrtValue.CreateTensorValueFromMemory(new long[] { 500, 500 }, [2])
                : OrtValue.CreateTensorValueFromMemory(new float[] { 500, 500 }, [2]);
            using var hidden = OrtValue.CreateTensorValueFromMemory(Noise(2 * 77 * context), [2, 77, context]);
            Console.WriteLine($"   execution provider {unet.ExecutionProvider}");
            unetFlop = Profile(unet, $"UNet at {size}×{size}, batch 2", ["sample", "timestep", "encoder_hidden_states"], [sample, timestep, hidden]);
        }
        using (var vae = sessions.Create(Path.Combine(options.ModelPath!, "vae_decoder", "model.onnx"), "vae_decoder"))
        {
            using var latents = OrtValue.CreateTensorValueFromMemory(Noise(4 * latent * latent), [1, 4, latent, latent]);
            vaeFlop = Profile(vae, $"VAE decoder at {size}×{size}, batch 1", [vae.InputName("latent_sample", 0)], [latents]);
        }

        // The ceiling: what ONNX Runtime's own kernels reach here on the UNet's biggest shapes alone.
        Console.WriteLine("   kernel rate on this machine (graphs of nothing but one op, same session options; best of 3 runs):");
        var rates = KernelRate.Measure(options);
        foreach (var (name, gflop, rate) in rates)
            Console.WriteLine($"     {name,-36} {gflop,7:F0} GFLOP  {rate,6:F0} GFLOP/s");
        var best = rates.Max(r => r.Rate);
        var imageFloor = (options.Steps * unetFlop + vaeFlop) / 1e9 / best;
        Console.WriteLine($"   at the best of these rates ({best:F0} GFLOP/s): a UNet call needs at least {unetFlop / 1e9 / best:F2} s, the VAE decode " +
                          $"{vaeFlop / 1e9 / best:F2} s, a {options.Steps}-step image ({options.Steps} UNet calls + 1 decode) {imageFloor:F0} s");
    }

    /// <summary>Runs <paramref name="model"/> twice (the first run pays for allocations and pre-packing), reports the second by op type; returns its GFLOP.</summary>
    private static double Profile(OnnxSession model, string label, string[] names, OrtValue[] inputs)
    {
        using var runOptions = new RunOptions();
        var output = model.OutputNames[0];
        for (var run = 0; run < 2; run++)
        {
            var clock = Stopwatch.StartNew();
            using var outputs = model.Session.Run(runOptions, names, inputs, [output]);
            Console.WriteLine($"   {label}, run {run + 1}: {clock.Elapsed.TotalSeconds:F2} s");
        }
        var file = model.Session.EndProfiling();
        try
        {
            return Report(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Sums the last <c>model_run</c>'s node events (kernel time, µs, and arithmetic from the logged shapes) by op type.</summary>
    private static double Report(string file)
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
            .Select(g => (Op: g.Key, Count: g.Count(), Micros: g.Sum(e => e.GetProperty("dur").GetInt64()), Flop: g.Sum(e => Flop(g.Key, e.GetProperty("args")))))
            .OrderByDescending(x => x.Micros)
            .ToList();
        var total = byOp.Sum(x => x.Micros);
        var flop = byOp.Sum(x => x.Flop);
        Console.WriteLine($"   profiled run: {lastRun.GetProperty("dur").GetInt64() / 1e6:F2} s, kernels {total / 1e6:F2} s, {flop / 1e9:F0} GFLOP of Conv/MatMul/attention arithmetic");
        Console.WriteLine("   | op type | nodes | time | share | GFLOP | GFLOP/s |");
        Console.WriteLine("   |---|---|---|---|---|---|");
        foreach (var (op, count, micros, opFlop) in byOp.Take(14))
            Console.WriteLine($"   | {op} | {count} | {micros / 1e3:F0} ms | {100.0 * micros / total:F1} % | {(opFlop > 0 ? $"{opFlop / 1e9:F0}" : "")} | {(opFlop > 0 ? $"{opFlop / 1e3 / micros:F0}" : "")} |");
        return flop;
    }

    /// <summary>
    /// Floating-point operations of one kernel call from the shapes ONNX Runtime logs with it (multiply + add = 2):
    /// Conv 2·|out|·C_in·k_h·k_w, MatMul 2·|out|·K (K: A's dimension that is not the output's rows), MultiHeadAttention 4·B·L_q·L_k·hidden (Q·Kᵀ and P·V). Other ops: 0.
    /// </summary>
    internal static double Flop(string op, JsonElement args)
    {
        if (!args.TryGetProperty("input_type_shape", out var inputs) || !args.TryGetProperty("output_type_shape", out var outputs)) return 0;
        long[] Shape(JsonElement list, int i) => i < list.GetArrayLength()
            ? [.. list[i].EnumerateObject().First().Value.EnumerateArray().Select(d => d.GetInt64())]
            : [];
        double Count(long[] shape) => shape.Aggregate(1.0, (a, d) => a * d);
        var output = Shape(outputs, 0);
        switch (op)
        {
            case "Conv" or "FusedConv" or "NchwcConv":
                var w = Shape(inputs, 1);
                return w.Length == 4 ? 2 * Count(output) * w[1] * w[2] * w[3] : 0;
            case "MatMul" or "FusedMatMul" or "Gemm":
                // K is A's dimension that is not the output's rows (FusedMatMul and Gemm may transpose A).
                var a = Shape(inputs, 0);
                if (a.Length == 0 || output.Length == 0) return 0;
                var inner = a.Length >= 2 && output.Length >= 2 && a[^2] != output[^2] ? a[^2] : a[^1];
                return 2 * Count(output) * inner;
            case "MultiHeadAttention":
                var (q, k) = (Shape(inputs, 0), Shape(inputs, 1));
                return q.Length == 3 && k.Length == 3 ? 4.0 * q[0] * q[1] * k[1] * q[2] : 0;
            default:
                return 0;
        }
    }
}
