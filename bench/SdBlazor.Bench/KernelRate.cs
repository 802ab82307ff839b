using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using SdBlazor.Engine;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;

namespace SdBlazor.Bench;

/// <summary>
/// The rate (GFLOP/s) ONNX Runtime's own Conv and MatMul kernels reach on this machine, on graphs of nothing but the
/// UNet's largest shapes, through the engine's <see cref="SessionFactory"/> (same options). It is the ceiling for a
/// UNet call here: a UNet that needs F GFLOP cannot take less than F ÷ this rate, whatever the pipeline does.
/// </summary>
public static class KernelRate
{
    /// <summary>Name, GFLOP per run, GFLOP/s (best of the timed runs).</summary>
    public static IReadOnlyList<(string Name, double Gflop, double Rate)> Measure(BenchOptions options)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sdblazor-kernel-rate-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            var engineOptions = Microsoft.Extensions.Options.Options.Create(new EngineOptions
            {
                ExecutionProvider = options.Provider, IntraOpThreads = options.Threads, DeviceId = options.DeviceId,
                CpuMemoryPattern = options.MemoryPattern, OptimizedModelCache = false,
            });
            var sessions = new SessionFactory(engineOptions, NullLogger<SessionFactory>.Instance);
            return
            [
                // SD 1.5's ResNet convolutions at 512×512 with CFG: 320 channels at 64×64, 1280 at 16×16.
                Time(sessions, folder, "Conv 3×3, 320 ch, 64×64, batch 2", ConvChain(320, 64), 6 * ConvFlop(320, 64)),
                Time(sessions, folder, "Conv 3×3, 1280 ch, 16×16, batch 2", ConvChain(1280, 16), 6 * ConvFlop(1280, 16)),
                // The feed-forward's projections at 64×64: 8,192 tokens (2 × 4,096) × 1,280.
                Time(sessions, folder, "MatMul 8192×1280 · 1280×1280", MatMulChain(8192, 1280), 6 * 2.0 * 8192 * 1280 * 1280),
            ];
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
    }

    private static double ConvFlop(int channels, int side) => 2.0 * 2 * channels * side * side * channels * 9;

    private static (OnnxBuilder Graph, long[] Shape) ConvChain(int channels, int side) =>
        Chain("Conv", [2, channels, side, side], [channels, channels, 3, 3], 0.02f, ("pads", new long[] { 1, 1, 1, 1 }));

    private static (OnnxBuilder Graph, long[] Shape) MatMulChain(int rows, int width) =>
        Chain("MatMul", [rows, width], [width, width], 0.03f);

    /// <summary>Six <paramref name="op"/> nodes in a row, each with its own random weight, shape-preserving.</summary>
    private static (OnnxBuilder Graph, long[] Shape) Chain(string op, long[] shape, long[] weightShape, float scale, params (string, object)[] attributes)
    {
        var random = new Random(3);
        object[] dims = [.. shape.Select(d => (object)(int)d)];
        var b = new OnnxBuilder().Input("x", OnnxBuilder.Float, dims).Output("y", OnnxBuilder.Float, dims);
        var x = "x";
        for (var i = 0; i < 6; i++)
        {
            var w = b.FloatConstant(Weights(random, (int)weightShape.Aggregate(1L, (a, d) => a * d), scale), weightShape);
            if (i < 5) x = b.Node(op, [x, w], attributes);
            else b.NodeTo(op, [x, w], "y", attributes);
        }
        return (b, shape);
    }

    private static float[] Weights(Random random, int count, float scale) =>
        [.. Enumerable.Range(0, count).Select(_ => scale * (float)(random.NextDouble() * 2 - 1))];

    private static (string, double, double) Time(SessionFactory sessions, string folder, string name, (OnnxBuilder Graph, long[] Shape) model, double flop)
    {
        var path = Path.Combine(folder, $"{Guid.NewGuid():N}.onnx");
        model.Graph.Save(path);
        using var session = sessions.Create(path, "kernel-rate");
        var input = Weights(new Random(5), (int)model.Shape.Aggregate(1L, (a, d) => a * d), 1f);
        using var x = OrtValue.CreateTensorValueFromMemory(input, model.Shape);
        using var runOptions = new RunOptions();
        var best = double.MaxValue;
        for (var run = 0; run < 4; run++) // the first run pays for allocations and pre-packing
        {
            var clock = Stopwatch.StartNew();
            using var outputs = session.Session.Run(runOptions, ["x"], [x], ["y"]);
            if (run > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (name, flop / 1e9, flop / 1e9 / best);
    }
}
