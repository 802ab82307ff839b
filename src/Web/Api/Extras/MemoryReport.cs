namespace SdBlazor.Web.Api.Extras;

/// <summary>
/// <c>/sdapi/v1/memory</c> in A1111's shape. <c>ram</c>: <c>used</c> is this process's resident memory, <c>total</c> the
/// machine's (or the container's limit), <c>free</c> what the machine has available (Linux <c>MemAvailable</c>; elsewhere
/// total − used, which is A1111's own estimate). <c>cuda</c>: ONNX Runtime does not report device memory, so it says
/// <c>{"error": "unavailable"}</c> as A1111 does without CUDA.
/// </summary>
public static class MemoryReport
{
    public static (Dictionary<string, object> Ram, Dictionary<string, object> Cuda) Read()
    {
        var used = Environment.WorkingSet;
        var total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var free = MemAvailable() is { } available ? Math.Min(available, total) : Math.Max(total - used, 0);
        return (new Dictionary<string, object> { ["free"] = free, ["used"] = used, ["total"] = total },
            new Dictionary<string, object> { ["error"] = "unavailable" });
    }

    private static long? MemAvailable()
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 2 && long.TryParse(parts[1], out var kib) ? kib * 1024 : null;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
