using System.Security.Cryptography;
using System.Text;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Generation;

/// <summary>
/// img2img init images and inpainting masks of queued jobs, as files in <c>{DataFolder}/queue-inputs</c> named after
/// the job (<c>.img</c>, <c>.mask</c>). They used to live in the queue database forever (about 4 MB per job, masks up
/// to 10 MB); now a completed job's inputs are deleted once its result is saved, so the database stays small.
/// </summary>
public sealed class InitImageFiles(DataFolder dataFolder)
{
    public const string FolderName = "queue-inputs";

    private string Folder => Directory.CreateDirectory(dataFolder.File(FolderName)).FullName;

    public const string ImageExtension = ".img";
    public const string MaskExtension = ".mask";

    public void Write(string jobId, byte[] bytes, string extension = ImageExtension)
    {
        var path = PathOf(jobId, extension);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public byte[]? Read(string jobId, string extension = ImageExtension)
    {
        try
        {
            return File.ReadAllBytes(PathOf(jobId, extension));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public bool Exists(string jobId) => File.Exists(PathOf(jobId));

    /// <summary>Deletes every input of the job (its init image and mask).</summary>
    public void Delete(string jobId)
    {
        try
        {
            File.Delete(PathOf(jobId));
            File.Delete(PathOf(jobId, MaskExtension));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: harmless, and deleted again with the next cleanup.
        }
    }

    public IEnumerable<string> FileNames() =>
        Directory.EnumerateFiles(Folder).Where(f => f.EndsWith(ImageExtension, StringComparison.Ordinal) || f.EndsWith(MaskExtension, StringComparison.Ordinal))
            .Select(Path.GetFileName).OfType<string>();

    /// <summary>Job ids are ours (hex), but the file name never trusts that: anything else is hashed.</summary>
    internal static string FileNameOf(string jobId) =>
        (jobId.Length is > 0 and <= 64 && jobId.All(char.IsAsciiLetterOrDigit)
            ? jobId
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobId)))) + ImageExtension;

    private string PathOf(string jobId, string extension = ImageExtension) =>
        Path.Combine(Folder, Path.ChangeExtension(FileNameOf(jobId), extension));
}
