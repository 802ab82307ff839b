using System.Diagnostics;

namespace SdBlazor.Bench;

/// <summary>
/// Process memory for the report: resident set size now and its high-water mark (Linux <c>/proc/self/status</c>
/// VmRSS/VmHWM, elsewhere <see cref="Process"/>), which Linux lets a process reset (<c>/proc/self/clear_refs</c>) so
/// that each phase gets its own peak; plus the peak of the managed heap, sampled every 20 ms.
/// </summary>
public sealed class MemoryProbe : IDisposable
{
    private readonly Timer _sampler;
    private long _peakManaged;

    public MemoryProbe() => _sampler = new Timer(_ => SampleManaged(), null, 0, 20);

    /// <summary>Largest managed heap size seen (bytes) since the last <see cref="ResetPeaks"/>.</summary>
    public long PeakManagedBytes
    {
        get { SampleManaged(); return Interlocked.Read(ref _peakManaged); }
    }

    /// <summary>Whether <see cref="ResetPeaks"/> can reset the RSS high-water mark here (Linux only).</summary>
    public bool CanResetRssPeak { get; private set; } = OperatingSystem.IsLinux();

    public void ResetPeaks()
    {
        Interlocked.Exchange(ref _peakManaged, 0);
        if (!CanResetRssPeak) return;
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { CanResetRssPeak = false; }
    }

    public static long CurrentRssBytes() => ReadStatus("VmRSS:") ?? Current(p => p.WorkingSet64);

    public static long PeakRssBytes() => ReadStatus("VmHWM:") ?? Current(p => p.PeakWorkingSet64);

    public static string GiB(long bytes) => $"{bytes / (double)(1L << 30):F2} GiB";

    public static string MiB(long bytes) => $"{bytes / (double)(1L << 20):F1} MiB";

    private void SampleManaged()
    {
        var now = GC.GetTotalMemory(false);
        long seen;
        while (now > (seen = Interlocked.Read(ref _peakManaged)) && Interlocked.CompareExchange(ref _peakManaged, now, seen) != seen) { }
    }

    private static long Current(Func<Process, long> read)
    {
        using var process = Process.GetCurrentProcess();
        return read(process);
    }

    private static long? ReadStatus(string key)
    {
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal) && long.TryParse(line[key.Length..].Trim().Split(' ')[0], out var kb)) return kb * 1024;
        return null;
    }

    public void Dispose() => _sampler.Dispose();
}
