namespace SdBlazor.Shared.Hubs;

// Events of one job, as pushed to SignalR clients (group "job:{id}") and to in-process subscribers.
// Plain init-only records: they travel over JSON and MessagePack alike.

public abstract record JobEvent
{
    public string JobId { get; init; } = "";
}

/// <param name="Position">1-based place among queued jobs.</param>
public sealed record JobQueuedEvent : JobEvent
{
    public int Position { get; init; }
}

public sealed record JobStartedEvent : JobEvent
{
    public int ImageCount { get; init; }
}

/// <summary>One finished denoising step. <see cref="Preview"/> is a JPEG of the current latents (hub clients only; null when previews are off or skipped for this step).</summary>
public sealed record JobStepEvent : JobEvent
{
    public int ImageIndex { get; init; }
    public int BatchIndex { get; init; }
    public int BatchCount { get; init; }
    public int Step { get; init; }
    public int TotalSteps { get; init; }

    /// <summary>Increases with every preview frame of the job; 0 before the first frame.</summary>
    public long FrameNo { get; init; }

    /// <summary>Work before the first step that takes a while (<c>"Converting unet (64/686)"</c> on a checkpoint's first use); null for a sampling step.</summary>
    public string? Phase { get; init; }

    public double ItPerSecond { get; init; }
    public double EtaSeconds { get; init; }
    public byte[]? Preview { get; init; }
}

public sealed record JobCompletedEvent : JobEvent
{
    public string[] ImageIds { get; init; } = [];
    public GenerationSummary? Parameters { get; init; }
}

public sealed record JobFailedEvent : JobEvent
{
    public string Reason { get; init; } = "";
}

/// <param name="StepAtRequest">Steps finished over the whole job (all batches) when the cancel arrived (0 when still queued).</param>
/// <param name="LastStep">Steps finished over the whole job when it stopped.</param>
/// <param name="ImageIds">Images finished before the cancel (earlier batches); they are kept in the gallery.</param>
/// <param name="Parameters">What those images were made with; null when none was finished.</param>
public sealed record JobCancelledEvent : JobEvent
{
    public int StepAtRequest { get; init; }
    public int LastStep { get; init; }
    public string[] ImageIds { get; init; } = [];
    public GenerationSummary? Parameters { get; init; }
}

/// <summary>What was actually used for a finished job (random seed resolved, native size filled in).</summary>
public sealed record GenerationSummary
{
    public string Prompt { get; init; } = "";
    public string NegativePrompt { get; init; } = "";
    public string Model { get; init; } = "";
    public string Sampler { get; init; } = "";
    public string ScheduleType { get; init; } = "";
    public int Steps { get; init; }
    public double CfgScale { get; init; }
    public long Seed { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public double? Strength { get; init; }
    public double DurationSeconds { get; init; }
}

/// <summary>A job as a client sees it when (re)subscribing.</summary>
public sealed record JobSnapshot
{
    public string JobId { get; init; } = "";
    public JobStatus Status { get; init; }
    public int Position { get; init; }
    public string[] ImageIds { get; init; } = [];
    public string? Error { get; init; }
}
