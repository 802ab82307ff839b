using SdBlazor.Shared;
using SdBlazor.Shared.Hubs;

namespace SdBlazor.Web.Generation;

/// <summary>
/// One queued generation as stored in LiteDB. Instances handed out by <see cref="GenerationQueue"/> are snapshots:
/// changing them changes nothing. The init image is kept in LiteDB file storage, not in the document,
/// so listing the queue never drags megabytes around.
/// </summary>
public sealed class Job
{
    public string Id { get; set; } = "";

    /// <summary>The request without <see cref="GenerationRequest.InitImage"/> and <see cref="GenerationRequest.Mask"/> (see <see cref="HasInitImage"/>, <see cref="HasMask"/>), except for a job handed to the worker.</summary>
    public GenerationRequest Request { get; set; } = new();

    public bool HasInitImage { get; set; }

    /// <summary>The inpainting mask is a file beside the init image (<see cref="InitImageFiles"/>), not in the document; older documents may still hold it inline.</summary>
    public bool HasMask { get; set; }
    public JobStatus Status { get; set; }

    /// <summary>Queue order: smaller runs first.</summary>
    public long Order { get; set; }

    /// <summary>Which page or connection submitted it (a circuit or hub connection id); only used to show "mine".</summary>
    public string? Owner { get; set; }

    /// <summary>
    /// The member account that submitted it, or null for the owner (also every job queued before jobs had an
    /// account). Members see and act on their own jobs only; see <see cref="Sharing.AccountScope"/>.
    /// </summary>
    public string? Account { get; set; }

    public DateTime CreatedUtc { get; set; }
    public DateTime? StartedUtc { get; set; }
    public DateTime? FinishedUtc { get; set; }
    public string? Error { get; set; }
    public List<string> ImageIds { get; set; } = [];
    public GenerationSummary? Result { get; set; }

    /// <summary>Gallery image this job started from (img2img "from this"), for the result's lineage.</summary>
    public string? ParentImageId { get; set; }

    /// <summary>The job this one was resubmitted from, if any.</summary>
    public string? ResubmittedFrom { get; set; }

    public static string NewId() => Guid.NewGuid().ToString("N");
}
