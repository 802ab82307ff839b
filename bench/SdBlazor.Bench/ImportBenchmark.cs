using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Bench;

/// <summary>
/// Issue 28's first-use numbers: a single-file checkpoint described from its header, converted into the
/// diffusers-ONNX cache with the shipped graph sets (time, peak RSS, peak managed heap), then used again from the cache.
/// </summary>
public static class ImportBenchmark
{
    public static int Run(BenchOptions options)
    {
        var path = options.CheckpointPath!;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"checkpoint '{path}' does not exist");
            return 2;
        }
        var cache = options.CheckpointCachePath ?? Path.Combine(Path.GetTempPath(), "sdblazor-bench-checkpoints", Guid.NewGuid().ToString("N"));
        var library = new CheckpointLibrary(Path.Combine(AppContext.BaseDirectory, "Architectures"), cache, ModelDataFiles.Default(), NullLogger.Instance,
            options.ConvertFor ?? CheckpointPrecision.ExpectedProvider(options.Provider));
        Console.WriteLine($"checkpoint {Path.GetFileName(path)}: {new FileInfo(path).Length / 1e9:F2} GB; cache {cache}; converted for {library.Provider}");
        using var probe = new MemoryProbe();
        try
        {
            probe.ResetPeaks();
            var clock = Stopwatch.StartNew();
            var entry = library.Describe(path);
            var describe = clock.Elapsed;
            if (entry.Error is not null)
            {
                Console.Error.WriteLine(entry.Error);
                return 1;
            }
            var layout = entry.Layout!;
            Console.WriteLine($"header + detection: {describe.TotalMilliseconds:F0} ms → {CheckpointFamily.Display(layout.Family)}, graph set {layout.GraphSet.Name}, output {layout.OutputBytes / 1e9:F2} GB fp32, converting to {library.PrecisionOf(entry)}");

            var phases = new Progress<ConversionProgress>(_ => { });
            clock.Restart();
            var folder = library.Prepare(entry, phases, CancellationToken.None);
            var first = clock.Elapsed;
            Console.WriteLine($"first use (convert + check): {first.TotalSeconds:F1} s, peak RSS {MemoryProbe.GiB(MemoryProbe.PeakRssBytes())} (fp32 model {layout.OutputBytes / (double)(1L << 30):F2} GiB), peak managed {MemoryProbe.MiB(probe.PeakManagedBytes)}");

            probe.ResetPeaks();
            clock.Restart();
            var again = library.Prepare(library.Describe(path), null, CancellationToken.None);
            Console.WriteLine($"second use (from the cache): {clock.Elapsed.TotalMilliseconds:F0} ms, same folder: {again.Path == folder.Path}");
            Console.WriteLine($"converted model: {folder.Path}");
            return 0;
        }
        finally
        {
            if (options.CheckpointCachePath is null)
            {
                try { Directory.Delete(cache, recursive: true); } catch (IOException) { }
            }
        }
    }
}
