namespace SdBlazor.Web.Generation;

/// <summary>Settings of the queue and worker, bound from the <c>Generation</c> section.</summary>
public sealed class GenerationOptions
{
    public const string Section = "Generation";

    /// <summary>Render a live preview every N steps (1 = every step); 0 turns previews off (step events still flow).</summary>
    public int PreviewEveryNSteps { get; set; } = 1;

    /// <summary>LiteDB file of the queue, inside the data folder.</summary>
    public string QueueFile { get; set; } = "queue.db";

    /// <summary>How many finished jobs the queue panel lists.</summary>
    public int RecentJobsShown { get; set; } = 20;

    /// <summary>
    /// Peak memory one job of the owner may need (bytes); 0: <see cref="MemoryBudgetPercent"/> of the memory this
    /// process may use. Jobs over it are refused at submit (or run as smaller UNet batches when that fits).
    /// </summary>
    public long MemoryBudgetBytes { get; set; }

    public int MemoryBudgetPercent { get; set; } = 60;

    /// <summary>A member's budget (bytes, at most the owner's); 0: <see cref="MemberMemoryBudgetPercent"/> of the owner's.</summary>
    public long MemberMemoryBudgetBytes { get; set; }

    public int MemberMemoryBudgetPercent { get; set; } = 50;

    /// <summary>Figures the estimate is made from (defaults measured on the embedded model; see docs/performance.md).</summary>
    public MemoryProfile MemoryProfile { get; set; } = new();

    /// <summary>
    /// A job starts only while the data folder's drive has this much free space (bytes); below it the job fails with
    /// a message, and the worker waits until space returns before starting the next.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How often a worker paused for disk space looks again.</summary>
    public TimeSpan DiskRecheckInterval { get; set; } = TimeSpan.FromSeconds(10);
}
