namespace SdBlazor.Web.Models;

public enum ImportState { Queued, Running, Done, Failed, Cancelled }

public enum ImportSourceKind { Local, Url, Hub }

/// <summary>One import as persisted in <c>imports.db</c>: the request, where it stands, and what it produced.</summary>
public sealed class ModelImport
{
    public string Id { get; set; } = "";
    public string Source { get; set; } = "";
    public ImportSourceKind Kind { get; set; }
    public string Name { get; set; } = "";
    public string? Revision { get; set; }
    public string? File { get; set; }
    public string? Sha256 { get; set; }
    public ImportState State { get; set; }
    public long Bytes { get; set; }
    public long Total { get; set; }
    public string? Error { get; set; }
    public string? RequestedBy { get; set; }
    public DateTime CreatedUtc { get; set; }
    public DateTime? FinishedUtc { get; set; }

    /// <summary>The commit a Hub revision resolved to: kept so that a resumed import fetches the same files.</summary>
    public string? Commit { get; set; }

    /// <summary>What was installed: the model's file or folder in the models folder.</summary>
    public string? InstalledPath { get; set; }

    public string? License { get; set; }

    public bool IsFinished => State is ImportState.Done or ImportState.Failed or ImportState.Cancelled;

    public double Progress => State == ImportState.Done ? 1 : Total > 0 ? Math.Clamp((double)Bytes / Total, 0, 1) : 0;

    public ModelImport Copy() => (ModelImport)MemberwiseClone();
}
