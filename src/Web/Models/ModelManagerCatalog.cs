using SdBlazor.Engine.Models;
using SdBlazor.Engine.Models.Sources;
using SdBlazor.Web.Api;

namespace SdBlazor.Web.Models;

/// <summary>One row of the model manager.</summary>
public sealed record ManagedModel(string Name, string Title, string Architecture, string Precision, long SizeBytes, string Source, string License,
    string? Sha256, DateTime AddedUtc, bool IsDefault, bool IsFolder, string? Error);

/// <summary>
/// The installed models with what a user wants to know before keeping or deleting one; set-default and delete.
/// Built on the engine's registry (so it lists exactly what <c>/sdapi/v1/sd-models</c> lists) plus the import records.
/// </summary>
public sealed class ModelManagerCatalog(ModelCatalog catalog, ModelRegistry registry, ImportStore imports, ImportRoots roots, ILogger<ModelManagerCatalog> logger)
{
    public IReadOnlyList<ManagedModel> List()
    {
        var selected = catalog.Selected()?.Name;
        var imported = imports.List().Where(i => i.State == ImportState.Done).GroupBy(i => i.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        return catalog.List().Select(model =>
        {
            var isFolder = Directory.Exists(model.Path);
            var import = imported.GetValueOrDefault(model.Name);
            var (architecture, precision) = Describe(model.Name, model.Path, isFolder, model.NativeWidth);
            return new ManagedModel(model.Name, ModelCatalog.Title(model), architecture, precision, SizeOnDisk(model.Path, isFolder),
                import is null ? (isFolder ? "folder" : "file") : SourceText(import),
                ModelLicense.Find(roots.ModelsPath, model.Name, model.Path), model.Sha256,
                import?.FinishedUtc ?? Added(model.Path, isFolder), string.Equals(model.Name, selected, StringComparison.OrdinalIgnoreCase), isFolder, model.Error);
        }).ToList();
    }

    public static string SourceText(ModelImport import) => import.Kind switch
    {
        ImportSourceKind.Hub => $"{import.Source}{(import.File is null ? "" : "/" + import.File)} @ {import.Revision ?? "main"}{(import.Commit is { Length: >= 7 } c && c != import.Revision ? $" ({c[..7]})" : "")}",
        _ => import.Source,
    };

    public bool SetDefault(string name)
    {
        var model = catalog.List().FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase) && m.Error is null);
        if (model is null) return false;
        catalog.Select(model);
        return true;
    }

    /// <summary>Deletes a model's file or folder (a link: only the link) and its licence sidecar; false when there is no such model in the models folder.</summary>
    public bool Delete(string name)
    {
        if (ImportRequestValidator.NameProblem(name) is not null) return false;
        var model = catalog.List().FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal));
        if (model is null) return false;
        var path = Path.GetFullPath(model.Path);
        // Only what lies directly in the models folder: never a converted cache or anything a link points at.
        if (!string.Equals(Path.GetDirectoryName(path), Path.TrimEndingDirectorySeparator(roots.ModelsPath), StringComparison.Ordinal)) return false;
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (info is DirectoryInfo directory && info.LinkTarget is null) directory.Delete(recursive: true);
        else info.Delete();
        File.Delete(ModelLicense.SidecarPath(roots.ModelsPath, model.Name));
        logger.LogInformation("Deleted model {Name} ({Path})", model.Name, path);
        catalog.Refresh();
        return true;
    }

    private (string Architecture, string Precision) Describe(string name, string path, bool isFolder, int nativeWidth)
    {
        if (isFolder) return ($"diffusers-ONNX, {nativeWidth} px", FolderPrecision(path));
        var entry = registry.FindCheckpoint(name);
        var architecture = entry?.Layout is { } layout ? CheckpointFamily.Display(layout.Family) : "unknown";
        try
        {
            var tensors = SafetensorsFile.ReadHeader(path, name).Tensors.Values;
            var precision = tensors.GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.Length)).Select(g => g.Key.ToString().ToLowerInvariant()).FirstOrDefault() ?? "unknown";
            return (architecture, precision.Replace("f", "fp", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CheckpointException)
        {
            return (architecture, "unknown");
        }
    }

    // Exporters name fp16 folders so (optimum, Olive: "fp16" in the folder or a unet/model_fp16.onnx); nothing else is cheap to tell.
    private static string FolderPrecision(string path) =>
        Path.GetFileName(path).Contains("fp16", StringComparison.OrdinalIgnoreCase) ? "fp16" : "onnx (fp32 or mixed)";

    private static long SizeOnDisk(string path, bool isFolder)
    {
        try
        {
            return isFolder
                ? new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).Sum(f => f.Length)
                : new FileInfo(path).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static DateTime Added(string path, bool isFolder) => isFolder ? Directory.GetCreationTimeUtc(path) : File.GetCreationTimeUtc(path);
}
