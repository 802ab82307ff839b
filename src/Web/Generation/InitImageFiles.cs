using System.Security.Cryptography;
using System.Text;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Generation;

/// <summary>
/// img2img init images of queued jobs, as files in <c>{DataFolder}/queue-inputs</c> named after the job. They used
/// to live in the queue database forever (about 4 MB per job); now a completed job's input is deleted once its
/// result is saved, so the database stays small.
/// </summary>
public sealed class InitImageFiles(DataFolder dataFolder)
{
    public const string FolderName = "queue-inputs";

    private string Folder => Directory.CreateDirectory(dataFolder.File(FolderName)).FullName;

    public void Write(string jobId, byte[] bytes)
    {
        var path = PathOf(jobId);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    public byte[]? Read(string jobId)
    {
        try
        {
            return File.ReadAllBytes(PathOf(jobId));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public bool Exists(string jobId) => File.Exists(PathOf(jobId));

    public void Delete(string jobId)
    {
        try
        {
            File.Delete(PathOf(jobId));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind: harmless, and deleted again with the next cleanup.
        }
    }

    public IEnumerable<string> FileNames() =>
        Directory.EnumerateFiles(Folder, "*.img").Select(Path.GetFileName).OfType<string>();

    /// <summary>Job ids are ours (hex), but the file name never trusts that: anything else is hashed.</summary>
    internal static string FileNameOf(string jobId) =>
        (jobId.Length is > 0 and <= 64 && jobId.All(char.IsAsciiLetterOrDigit)
            ? jobId
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobId)))) + ".img";

    private string PathOf(string jobId) => Path.Combine(Folder, FileNameOf(jobId));
}
