using SdBlazor.Engine.Pipelines;
using SdBlazor.Web.Models.Downloads;

namespace SdBlazor.Web.Models;

/// <summary>
/// Does one import: fetches into <c>downloads/&lt;id&gt;/</c> (kept across restarts, so a resumed import continues from
/// the bytes on disk), verifies, then moves the file or folder into the models folder under the import's name and
/// refreshes the model list so the model is listed at once.
/// </summary>
public sealed class ImportRunner(ImportStore store, ImportRoots roots, ResumableDownloader downloader, HubRepository hubRepository, HubEndpoint hub,
    IGenerationEngine engine, ILogger<ImportRunner> logger)
{
    // Weights diffusers-ONNX folders do not use: a repo holding both formats would otherwise download gigabytes twice.
    private static readonly string[] SkippedExtensions = [".bin", ".safetensors", ".ckpt", ".pt", ".pth", ".msgpack", ".h5", ".gguf"];
    private static readonly TimeSpan PersistEvery = TimeSpan.FromSeconds(1);

    public string StagingFolder(ModelImport import) => Path.Combine(roots.DownloadPath, import.Id);

    /// <summary>Folders of the download folder named like an import id (32 hex digits); anything else there is the user's (it is an import root).</summary>
    public IEnumerable<string> StagingFolders()
    {
        if (!Directory.Exists(roots.DownloadPath)) return [];
        return Directory.EnumerateDirectories(roots.DownloadPath)
            .Where(d => Path.GetFileName(d) is { Length: 32 } name && name.All(char.IsAsciiHexDigitLower) && new DirectoryInfo(d).LinkTarget is null)
            .ToList();
    }

    public async Task RunAsync(ModelImport import, CancellationToken cancellationToken)
    {
        // Stopped between installing and saving "done": nothing left to fetch.
        if (import.InstalledPath is { } installed && (File.Exists(installed) || Directory.Exists(installed)))
        {
            engine.RefreshModels();
            return;
        }
        if (ExistingModel(import.Name) is { } existing) throw new ImportFailedException($"A model named '{import.Name}' already exists ({existing}).");
        var staging = StagingFolder(import);
        Directory.CreateDirectory(staging);
        switch (import.Kind)
        {
            case ImportSourceKind.Url:
                await DownloadCheckpointAsync(import, new DownloadTarget(new Uri(import.Source), import.Source, import.Sha256, null), null, cancellationToken);
                break;
            case ImportSourceKind.Hub:
                await ImportFromHubAsync(import, cancellationToken);
                break;
            default:
                await CopyLocalAsync(import, cancellationToken);
                break;
        }
        TryDelete(staging);
        engine.RefreshModels();
    }

    /// <summary>Removes what a cancelled or hopeless import left in the download folder.</summary>
    public void Discard(ModelImport import) => TryDelete(StagingFolder(import));

    private async Task ImportFromHubAsync(ModelImport import, CancellationToken cancellationToken)
    {
        var repo = await hubRepository.GetAsync(import.Source, import.Commit ?? import.Revision ?? "main", cancellationToken);
        // Every file from the same commit, also after a restart (a branch may move on meanwhile).
        store.Update(import.Id, i => i.Commit = import.Commit = repo.Commit);
        foreach (var file in repo.Files)
            if (!ImportRequestValidator.IsSafeRelativePath(file.Path))
                throw new ImportFailedException($"Repository '{import.Source}' lists an unsafe file name '{file.Path}'; nothing was imported.");

        if (import.File is null && repo.Files.Any(f => f.Path == "model_index.json"))
        {
            await DownloadFolderAsync(import, repo, cancellationToken);
            return;
        }
        HubFile chosen;
        if (import.File is not null)
        {
            chosen = repo.Files.FirstOrDefault(f => f.Path == import.File)
                ?? throw new ImportFailedException($"File '{import.File}' was not found in repository '{import.Source}' at revision '{import.Revision}' (EntryNotFound).");
        }
        else
        {
            var checkpoints = repo.Files.Where(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
            chosen = checkpoints.Count switch
            {
                0 => throw new ImportFailedException($"Repository '{import.Source}' holds neither a diffusers-ONNX model (model_index.json) nor a .safetensors checkpoint."),
                1 => checkpoints[0],
                _ => throw new ImportFailedException($"Repository '{import.Source}' holds several checkpoints; choose one with \"file\": {string.Join(", ", checkpoints.Select(c => c.Path))}."),
            };
        }
        var target = new DownloadTarget(hub.Resolve(import.Source, repo.Commit, chosen.Path), $"{import.Source}/{chosen.Path}", import.Sha256 ?? chosen.Sha256, chosen.Size);
        if (import.Sha256 is not null && chosen.Sha256 is not null && import.Sha256 != chosen.Sha256)
            throw new ImportFailedException($"The requested sha256 {import.Sha256} is not the Hub's {chosen.Sha256} for '{chosen.Path}'.");
        await DownloadCheckpointAsync(import, target, repo.License, cancellationToken);
    }

    private async Task DownloadCheckpointAsync(ModelImport import, DownloadTarget target, string? license, CancellationToken cancellationToken)
    {
        var part = Path.Combine(StagingFolder(import), import.Name + ".safetensors.part");
        var reporter = new Reporter(store, import, 0, target.ExpectedSize);
        await downloader.DownloadAsync(target, part, reporter.Report, cancellationToken);
        reporter.Flush();
        Install(import, part, Path.Combine(roots.ModelsPath, import.Name + ".safetensors"), license);
    }

    private async Task DownloadFolderAsync(ModelImport import, HubRepo repo, CancellationToken cancellationToken)
    {
        var files = repo.Files.Where(f => !f.Path.StartsWith('.') && !SkippedExtensions.Contains(Path.GetExtension(f.Path).ToLowerInvariant())).ToList();
        if (!files.Any(f => f.Path.EndsWith("/model.onnx", StringComparison.Ordinal)))
            throw new ImportFailedException($"Repository '{import.Source}' is a diffusers model without ONNX components (no */model.onnx); only diffusers-ONNX folders and .safetensors checkpoints can be imported.");
        var folder = Path.Combine(StagingFolder(import), import.Name);
        long done = 0;
        var total = files.Sum(f => f.Size ?? 0);
        foreach (var file in files)
        {
            var destination = Path.Combine(folder, file.Path.Replace('/', Path.DirectorySeparatorChar));
            if (File.Exists(destination))
            {
                done += new FileInfo(destination).Length;
                continue;
            }
            var reporter = new Reporter(store, import, done, total);
            var result = await downloader.DownloadAsync(new DownloadTarget(hub.Resolve(import.Source, repo.Commit, file.Path), $"{import.Source}/{file.Path}", file.Sha256, file.Size),
                destination + ".part", reporter.Report, cancellationToken);
            File.Move(destination + ".part", destination);
            done += result.Length;
        }
        store.Update(import.Id, i => { i.Bytes = done; i.Total = Math.Max(total, done); });
        var license = repo.License ?? ModelLicense.FromModelCard(Path.Combine(folder, "README.md"));
        Install(import, folder, Path.Combine(roots.ModelsPath, import.Name), license);
    }

    private async Task CopyLocalAsync(ModelImport import, CancellationToken cancellationToken)
    {
        // Checked again here: the roots may have changed since the request (a restart with other settings).
        if (!roots.Contains(import.Source)) throw new ImportFailedException("The source path is outside the import folders.");
        if (Directory.Exists(import.Source))
        {
            var sources = Directory.EnumerateFiles(import.Source, "*", SearchOption.AllDirectories).ToList();
            var total = sources.Sum(f => new FileInfo(f).Length);
            var folder = Path.Combine(StagingFolder(import), import.Name);
            long done = 0;
            foreach (var source in sources)
            {
                var destination = Path.Combine(folder, Path.GetRelativePath(import.Source, source));
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                await CopyAsync(source, destination, new Reporter(store, import, done, total), cancellationToken);
                done += new FileInfo(source).Length;
            }
            Install(import, folder, Path.Combine(roots.ModelsPath, import.Name), null);
            return;
        }
        var part = Path.Combine(StagingFolder(import), import.Name + ".safetensors.part");
        var length = new FileInfo(import.Source).Length;
        var hash = await CopyAsync(import.Source, part, new Reporter(store, import, 0, length), cancellationToken);
        if (import.Sha256 is not null && import.Sha256 != hash)
        {
            File.Delete(part);
            throw new ImportFailedException($"SHA-256 mismatch: expected {import.Sha256}, the file has {hash}.");
        }
        Install(import, part, Path.Combine(roots.ModelsPath, import.Name + ".safetensors"), null);
    }

    private static async Task<string> CopyAsync(string source, string destination, Reporter reporter, CancellationToken cancellationToken)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true);
        var buffer = new byte[1 << 20];
        long copied = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            try
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            catch (IOException ex) when (ImportFailedException.IsDiskFull(ex))
            {
                // Nothing worth keeping: a copy starts again from its source.
                throw new ImportFailedException("The disk of the download folder is full; the partial copy was deleted. Free some space and press Retry.", inner: ex);
            }
            hash.AppendData(buffer, 0, read);
            reporter.Report(copied += read);
        }
        reporter.Flush();
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private void Install(ModelImport import, string staged, string destination, string? license)
    {
        if (ExistingModel(import.Name) is { } existing) throw new ImportFailedException($"A model named '{import.Name}' appeared meanwhile ({existing}); the download is kept in {staged}.");
        if (Directory.Exists(staged)) MoveFolder(staged, destination);
        else File.Move(staged, destination);
        if (license is not null) ModelLicense.WriteSidecar(roots.ModelsPath, import.Name, license, import.Source);
        store.Update(import.Id, i => { i.InstalledPath = destination; i.License = license; });
        logger.LogInformation("Imported {Name} from {Source} into {Path}", import.Name, import.Source, destination);
    }

    /// <summary>The file or folder that already carries <paramref name="name"/> in the models folder, if any.</summary>
    public string? ExistingModel(string name)
    {
        foreach (var candidate in new[] { Path.Combine(roots.ModelsPath, name), Path.Combine(roots.ModelsPath, name + ".safetensors") })
            if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
        return engine.ListModels().Any(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) ? name : null;
    }

    // Directory.Move cannot cross file systems (a download folder on another disk than the models): copy, then delete.
    private static void MoveFolder(string source, string destination)
    {
        try
        {
            Directory.Move(source, destination);
            return;
        }
        catch (IOException) when (!Directory.Exists(destination))
        {
        }
        // Hidden while it fills, so that a re-scan meanwhile does not list a half-copied model.
        var temporary = Path.Combine(Path.GetDirectoryName(destination)!, "." + Path.GetFileName(destination) + ".importing");
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(temporary, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.Move(temporary, destination);
        Directory.Delete(source, recursive: true);
    }

    internal static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Progress of one file within the import: pushed to subscribers at once, saved to the database about once a second.</summary>
    private sealed class Reporter(ImportStore store, ModelImport import, long offset, long? total)
    {
        private DateTime _saved = DateTime.MinValue;

        public void Report(long bytes) => Report(bytes, null);

        public void Report(long bytes, long? fileTotal)
        {
            import.Bytes = offset + bytes;
            if ((total ?? fileTotal) is { } t && t > import.Total) import.Total = t;
            if (import.Bytes > import.Total) import.Total = import.Bytes;
            store.Notify(import);
            if (DateTime.UtcNow - _saved < PersistEvery) return;
            _saved = DateTime.UtcNow;
            Flush();
        }

        public void Flush() => store.Update(import.Id, i => { i.Bytes = import.Bytes; i.Total = import.Total; });
    }
}
