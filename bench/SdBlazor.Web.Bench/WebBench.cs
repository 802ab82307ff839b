using System.Globalization;

namespace SdBlazor.Web.Bench;

// Web benchmarks: generation time with live previews off / on for 1 and 10 viewers, and server memory per circuit.
// Usage: dotnet run -c Release --project bench/SdBlazor.Web.Bench -- [--steps 50] [--runs 5] [--circuits 10]
//        ... -- --soak [--minutes 10] [--viewers 50] [--members 10]   (issue 27: viewers, members and an owner at once)
// (An explicit Main: top-level statements would declare a second `Program`, clashing with the web app's.)
internal static class WebBench
{
    public static async Task Main(string[] args)
    {
        if (args.Contains("--soak"))
        {
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            await SoakBenchmark.RunAsync(TimeSpan.FromMinutes(Option(args, "--minutes", 10)), Option(args, "--viewers", 50), Option(args, "--members", 10));
            return;
        }
        var steps = Option(args, "--steps", 50);
        var runs = Option(args, "--runs", 5);
        var circuits = Option(args, "--circuits", 10);
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        Console.WriteLine($"Default model, {steps} steps, {runs} interleaved rounds after one warm-up each, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        var results = await PreviewBenchmark.RunAsync(
        [
            new("previews off", PreviewEvery: 0, Viewers: 1),
            new("every step, 1 viewer", PreviewEvery: 1, Viewers: 1),
            new("every step, 10 viewers", PreviewEvery: 1, Viewers: 10),
        ], steps, runs);

        Console.WriteLine("| mode | engine time (median) | ratio (median of per-round ratios) | submit→completed (median) | ratio | frames received |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in results)
            Console.WriteLine($"| {r.Mode} | {r.MedianEngineSeconds * 1000:0.0} ms | {r.MedianEngineRatio:0.000} | {r.MedianWallSeconds * 1000:0.0} ms | {r.MedianWallRatio:0.000} | {r.Frames} |");
        Console.WriteLine($"load average after: {LoadAverage()}");

        var memory = await CircuitMemoryBenchmark.RunAsync(circuits);
        Console.WriteLine($"Server memory per connected circuit ({memory.Circuits} circuits): managed heap {memory.ManagedBytesPerCircuit / 1024:0} KB, working set {memory.WorkingSetBytesPerCircuit / 1024:0} KB");

        static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

        static int Option(string[] args, string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
        }
    }
}
