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
}
