using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Loras;

/// <summary>
/// Model folders with LoRAs merged in, one per (converted model, LoRA files, multipliers), kept under
/// <c>&lt;checkpoint cache&gt;/loras/</c> so the next image with the same LoRA set loads without merging.
/// </summary>
/// <remarks>
/// Why a merged folder rather than <c>SessionOptions.AddExternalInitializers</c>: the merged <c>weights.bin</c> is the
/// converter's own format, so the variant loads through the unchanged session path (optimised-model cache, clip-skip
/// graph edit, fixed-shape sessions) and survives restarts; external initializers would have to be rebuilt in memory
/// for every session that path makes and held as pinned fp32 copies beside the session's own. Only the components a
/// LoRA touches are written; the others are symbolic links to the base model's folders (copies where links are refused).
/// </remarks>
public sealed class LoraVariants(string loraPath, string cachePath, ILogger logger)
{
    /// <summary>Merged variants kept per base model (each is a full UNet and/or text encoder on disk).</summary>
    public const int KeepPerModel = 3;

    private const string CompleteMarker = ".sdblazor-complete", WarningsFile = "lora-warnings.txt";

    public string LoraPath { get; } = loraPath;
    public string Root { get; } = Path.Combine(cachePath, "loras");

    /// <summary>The LoRA files of <paramref name="tags"/> (unknown names are reported and skipped); tags with both multipliers 0 change nothing and are dropped.</summary>
    public IReadOnlyList<LoraApplication> Resolve(IReadOnlyList<LoraTag> tags, List<string> warnings)
    {
        var result = new List<LoraApplication>();
        if (tags.Count == 0) return result;
        var files = Directory.Exists(LoraPath)
            ? Directory.EnumerateFiles(LoraPath, "*.safetensors", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true, MatchCasing = MatchCasing.CaseInsensitive })
                .Order(StringComparer.Ordinal).ToList()
            : [];
        foreach (var tag in tags)
        {
            // By file name only: a tag cannot reach outside the LoRA folder.
            var file = files.FirstOrDefault(f => Path.GetFileNameWithoutExtension(f).Equals(tag.Name, StringComparison.Ordinal))
                ?? files.FirstOrDefault(f => Path.GetFileNameWithoutExtension(f).Equals(tag.Name, StringComparison.OrdinalIgnoreCase));
            if (file is null)
            {
                warnings.Add($"LoRA '{tag.Name}' not found in {LoraPath}; the image was made without it.");
                continue;
            }
            if (tag.TextEncoderMultiplier == 0 && tag.UNetMultiplier == 0) continue;
            result.Add(new LoraApplication(tag.Name, file, tag.TextEncoderMultiplier, tag.UNetMultiplier));
        }
        return result;
    }

    /// <summary>
    /// The folder of <paramref name="baseFolder"/> with <paramref name="loras"/> merged: from the cache, else merged now.
    /// Warnings of the merge are kept with the variant and reported again on every use.
    /// </summary>
    /// <param name="layout">The conversion of a single-file checkpoint (its weight manifest); null for a diffusers-ONNX folder, whose graph is mapped instead (<see cref="OnnxFolderLoras"/>).</param>
    public ModelFolder Prepare(ModelFolder baseFolder, CheckpointLayout? layout, IReadOnlyList<LoraApplication> loras, List<string> warnings, CancellationToken cancellationToken)
    {
        var target = Path.Combine(Root, Prefix(baseFolder) + Hash(Key(baseFolder, loras)));
        if (!File.Exists(Path.Combine(target, CompleteMarker)))
        {
            Directory.CreateDirectory(Root);
            var staging = Path.Combine(Root, $".staging-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(staging);
                var merged = new List<string>();
                var touched = layout is null
                    ? OnnxFolderLoras.Merge(baseFolder, loras, staging, merged, cancellationToken)
                    : LoraMerger.Merge(baseFolder.Path, layout.GraphSet, loras, staging, merged, cancellationToken,
                        layout.Weights.Where(w => w.Value.Weight.SplitCount == 1).Select(w => (w.Key.Component, w.Key.Key, w.Value.Weight.CheckpointKey)));
                foreach (var entry in Directory.EnumerateFileSystemEntries(baseFolder.Path))
                {
                    var name = Path.GetFileName(entry);
                    var destination = Path.Combine(staging, name);
                    if (touched.Contains(name))
                    {
                        foreach (var file in Directory.EnumerateFiles(entry))
                        {
                            var copy = Path.Combine(destination, Path.GetFileName(file));
                            if (!File.Exists(copy)) File.Copy(file, copy);
                        }
                    }
                    else if (File.Exists(entry)) File.Copy(entry, destination);
                    else LinkOrCopy(entry, destination);
                }
                File.WriteAllLines(Path.Combine(staging, WarningsFile), merged);
                File.WriteAllText(Path.Combine(staging, CompleteMarker), string.Join('\n', loras.Select(l => l.FilePath)));
                Prune(baseFolder);
                if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
                Directory.Move(staging, target);
                logger.LogInformation("Merged LoRA(s) {Loras} into {Model} ({Components}) at {Folder}",
                    string.Join(", ", loras.Select(l => l.Name)), baseFolder.Name, string.Join(", ", touched), target);
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        }
        warnings.AddRange(File.ReadAllLines(Path.Combine(target, WarningsFile)).Where(l => l.Length > 0));
        Directory.SetLastWriteTimeUtc(target, DateTime.UtcNow); // most recently used survives pruning
        return ModelFolder.Open(target, baseFolder.Name);
    }

    private static string Key(ModelFolder baseFolder, IReadOnlyList<LoraApplication> loras)
    {
        var key = new StringBuilder("v=2;base=").Append(baseFolder.Path);
        // A re-converted base model (new file, new graph set) or a replaced ONNX folder has new weights: its variants must not be reused.
        foreach (var file in Directory.EnumerateFiles(baseFolder.Path, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            key.Append(';').Append(file).Append('=').Append(info.Length).Append('@').Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));
        }
        foreach (var lora in loras)
        {
            var info = new FileInfo(lora.FilePath);
            key.Append(CultureInfo.InvariantCulture, $";lora={lora.FilePath}={info.Length}@{info.LastWriteTimeUtc.Ticks}:{lora.TextEncoderMultiplier:R}:{lora.UNetMultiplier:R}");
        }
        return key.ToString();
    }

    private void Prune(ModelFolder baseFolder)
    {
        var old = new DirectoryInfo(Root).EnumerateDirectories(Prefix(baseFolder) + "*")
            .OrderByDescending(d => d.LastWriteTimeUtc).Skip(KeepPerModel - 1);
        foreach (var dir in old)
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException ex)
            {
                logger.LogWarning("Could not remove {Folder}: {Problem}", dir.FullName, ex.Message);
            }
        }
    }

    private static void LinkOrCopy(string source, string destination)
    {
        try
        {
            Directory.CreateSymbolicLink(destination, source);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Directory.CreateDirectory(destination);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var copy = Path.Combine(destination, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }
        }
    }

    private static string Prefix(ModelFolder baseFolder)
    {
        var name = new string(baseFolder.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return $"{(name.Length > 48 ? name[..48] : name)}-{Hash(baseFolder.Path)}-";
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
