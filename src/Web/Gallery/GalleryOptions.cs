using System.ComponentModel.DataAnnotations;

namespace SdBlazor.Web.Gallery;

/// <summary>Gallery settings (section <c>Gallery</c>; the data folder itself is <c>Gallery:DataPath</c>, see <see cref="Storage.DataFolderOptions"/>).</summary>
public sealed class GalleryOptions
{
    public const string Section = "Gallery";

    /// <summary>Longest side of thumbnails, pixels.</summary>
    [Range(64, 1024)]
    public int ThumbnailSize { get; set; } = 256;

    [Range(30, 100)]
    public int ThumbnailQuality { get; set; } = 75;

    [Range(1, 100 * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    [Range(64, 16384)]
    public int MaxUploadSide { get; set; } = 4096;

    [Range(4096, 256 * 1024 * 1024)]
    public long MaxUploadPixels { get; set; } = 16 * 1024 * 1024;

    /// <summary>Trashed images are deleted for good after this many days (0 keeps them until the trash is emptied).</summary>
    [Range(0, 3650)]
    public int TrashRetentionDays { get; set; } = 30;

    /// <summary>Reconcile index and files in the background at start-up.</summary>
    public bool ReconcileOnStartup { get; set; } = true;
}
