using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Generation;

/// <summary>Free space where results are written; a seam so tests can fill the disk without filling one.</summary>
public interface IDiskSpace
{
    /// <returns>Bytes available to this process on the data folder's drive, or null when it cannot be told.</returns>
    long? FreeBytes();
}

public sealed class DataFolderDiskSpace(DataFolder dataFolder) : IDiskSpace
{
    public long? FreeBytes()
    {
        try
        {
            return new DriveInfo(dataFolder.Path).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
