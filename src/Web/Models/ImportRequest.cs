using System.Text.RegularExpressions;

namespace SdBlazor.Web.Models;

/// <summary>The body of <c>POST /api/models/import</c>.</summary>
public sealed record ImportRequest(string? Source, string? Name, string? Revision, string? File, string? Sha256);

/// <summary>A request checked and classified; the only thing the runner accepts.</summary>
public sealed record ValidImport(ImportSourceKind Kind, string Source, string Name, string? Revision, string? File, string? Sha256);

/// <summary>
/// Turns requests into <see cref="ValidImport"/>s or a list of field errors. Nothing is read from disk or the network
/// here, except whether an allowed local path exists: a path outside the import roots is refused before it is touched.
/// </summary>
public sealed partial class ImportRequestValidator(ImportRoots roots, ModelManagerOptions options)
{
    public const int MaxNameLength = 100;

    private static readonly HashSet<string> ReservedDeviceNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    };

    public (ValidImport? Import, Dictionary<string, string[]> Errors) Validate(ImportRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var source = request.Source?.Trim() ?? "";
        var sha = string.IsNullOrWhiteSpace(request.Sha256) ? null : request.Sha256.Trim().ToLowerInvariant();
        if (sha is not null && !Sha256Pattern().IsMatch(sha)) errors["sha256"] = ["sha256 must be 64 hexadecimal digits."];
        var revision = string.IsNullOrWhiteSpace(request.Revision) ? null : request.Revision.Trim();
        var file = string.IsNullOrWhiteSpace(request.File) ? null : request.File.Trim();

        ImportSourceKind kind;
        string? derivedName = null;
        if (source.Length == 0 || source.Length > 2048)
        {
            errors["source"] = ["source is required (an absolute path, an https:// URL of a .safetensors file, or a Hugging Face repo id owner/name), at most 2048 characters."];
            return (null, errors);
        }
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
        {
            kind = ImportSourceKind.Url;
            if (uri.Scheme == Uri.UriSchemeHttp && !options.AllowHttpUrls) errors["source"] = ["Only https:// URLs are accepted."];
            else if (!uri.AbsolutePath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) errors["source"] = ["A URL source must point at a .safetensors file (pickle formats are never loaded)."];
            else if (!string.IsNullOrEmpty(uri.UserInfo)) errors["source"] = ["Credentials in the URL are not accepted."];
            derivedName = Path.GetFileNameWithoutExtension(Uri.UnescapeDataString(uri.AbsolutePath.Split('/')[^1]));
            if (revision is not null || file is not null) errors["revision"] = ["revision and file apply to Hugging Face repo ids only."];
        }
        else if (Path.IsPathFullyQualified(source))
        {
            kind = ImportSourceKind.Local;
            if (revision is not null || file is not null) errors["revision"] = ["revision and file apply to Hugging Face repo ids only."];
            var full = Path.GetFullPath(source);
            if (!roots.Contains(full))
            {
                errors["source"] = [$"The path is outside the import folders ({string.Join(", ", roots.All)}); add a folder to Models:ImportRoots to import from it."];
            }
            else if (File.Exists(full))
            {
                if (!full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) errors["source"] = ["A local file must be a .safetensors checkpoint (pickle formats are never loaded)."];
                derivedName = Path.GetFileNameWithoutExtension(full);
            }
            else if (Directory.Exists(full))
            {
                if (!File.Exists(Path.Combine(full, "model_index.json"))) errors["source"] = ["A local folder must be a diffusers-ONNX model (with model_index.json)."];
                derivedName = Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar));
            }
            else
            {
                errors["source"] = ["No such file or folder."];
            }
            source = full;
        }
        else if (RepoIdPattern().IsMatch(source) && !source.Contains("..", StringComparison.Ordinal))
        {
            kind = ImportSourceKind.Hub;
            revision ??= "main";
            if (revision.Length > 200 || !RevisionPattern().IsMatch(revision) || revision.Contains("..", StringComparison.Ordinal))
                errors["revision"] = ["revision must be a branch, tag or commit (letters, digits, . _ - /)."];
            if (file is not null && (file.Length > 500 || !IsSafeRelativePath(file) || !file.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
                errors["file"] = ["file must be a .safetensors path inside the repo (no .. or absolute paths)."];
            derivedName = file is not null ? Path.GetFileNameWithoutExtension(file) : source.Split('/')[1];
        }
        else
        {
            errors["source"] = ["source must be an absolute path, an https:// URL of a .safetensors file, or a Hugging Face repo id owner/name."];
            return (null, errors);
        }

        var name = string.IsNullOrWhiteSpace(request.Name) ? derivedName : request.Name;
        if (NameProblem(name) is { } problem) errors["name"] = [problem];
        return errors.Count > 0 ? (null, errors) : (new ValidImport(kind, source, name!, revision, file, sha), errors);
    }

    /// <summary>Why <paramref name="name"/> cannot be a model name (it becomes a file or folder name), or null.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "name is required.";
        if (name.Length > MaxNameLength) return $"name must be at most {MaxNameLength} characters.";
        if (!NamePattern().IsMatch(name) || name.EndsWith('.') || name.EndsWith(' ') || name.Contains("..", StringComparison.Ordinal))
            return "name may hold letters, digits, spaces and . _ - only (no path characters), and must start with a letter or digit.";
        var stem = name.Split('.')[0].TrimEnd();
        if (ReservedDeviceNames.Contains(stem)) return $"'{name}' is a reserved device name on Windows.";
        return null;
    }

    public static bool IsSafeRelativePath(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains(':') && !path.Contains('\0')
        && path.Split('/').All(segment => segment.Length > 0 && segment != "." && segment != "..");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9._-]{1,96}$")]
    private static partial Regex RepoIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._/-]+$")]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();
}
