using System.Globalization;

namespace SdBlazor.Web.Bench;

// Web benchmarks: generation time with live previews off / on for 1 and 10 viewers, and server memory per circuit.
// Usage: dotnet run -c Release --project bench/SdBlazor.Web.Bench -- [--steps 50] [--runs 5] [--circuits 10]
// (An explicit Main: top-level statements would declare a second `Program`, clashing with the web app's.)
internal static class WebBench
{
    public static async Task Main(string[] args)
    {
        var steps = Option(args, "--steps", 50);
        var runs = Option(args, "--runs", 5);
        var circuits = Option(args, "--circuits", 10);
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        Console.WriteLine($"Default model, {steps} steps, median of {runs} runs after one warm-up, {Environment.ProcessorCount} cores");
        var off = await PreviewBenchmark.RunAsync("previews off", previewEvery: 0, viewers: 1, steps, runs);
        var one = await PreviewBenchmark.RunAsync("every step, 1 viewer", previewEvery: 1, viewers: 1, steps, runs);
        var ten = await PreviewBenchmark.RunAsync("every step, 10 viewers", previewEvery: 1, viewers: 10, steps, runs);

        Console.WriteLine("| mode | engine time (median) | ratio | submit→completed (median) | ratio | frames received |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in new[] { off, one, ten })
            Console.WriteLine($"| {r.Mode} | {r.MedianEngineSeconds * 1000:0.0} ms | {r.MedianEngineSeconds / off.MedianEngineSeconds:0.000} | {r.MedianWallSeconds * 1000:0.0} ms | {r.MedianWallSeconds / off.MedianWallSeconds:0.000} | {r.Frames} |");

        var memory = await CircuitMemoryBenchmark.RunAsync(circuits);
        Console.WriteLine($"Server memory per connected circuit ({memory.Circuits} circuits): managed heap {memory.ManagedBytesPerCircuit / 1024:0} KB, working set {memory.WorkingSetBytesPerCircuit / 1024:0} KB");

        static int Option(string[] args, string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
        }
    }
}
