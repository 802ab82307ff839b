using SdBlazor.Shared.Hubs;
using SdBlazor.Web.Generation;

namespace SdBlazor.Web.Hubs;

internal static class Snapshot
{
    public static JobSnapshot Of(Job job, GenerationQueue queue) => new()
    {
        JobId = job.Id,
        Status = job.Status,
        Position = queue.PositionOf(job.Id),
        ImageIds = [.. job.ImageIds],
        Error = job.Error,
    };
}
