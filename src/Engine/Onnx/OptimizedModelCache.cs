using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Where ONNX Runtime's optimised graph of a model is kept between starts (CPU provider only). Creating a session at
/// <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/> rewrites an SD-sized UNet into the CPU's blocked (NCHWc) layout
/// and reorders its convolution weights, about 10 s of every start for SD 1.5 (issue 8); a session made from the saved
/// result skips that. The saved graph is specific to the ONNX Runtime version and the CPU's instruction set (ORT warns
/// that NCHWc graphs are hardware specific), so both are part of an entry's key, as is every file of the model's folder
/// (name, size, time written): a changed or replaced model never meets a stale entry.
/// </summary>
/// <remarks>
/// Layout: <c>&lt;root&gt;/&lt;label&gt;-&lt;source hash&gt;-&lt;key hash&gt;/model.onnx</c> plus <c>model.onnx.data</c>
/// (the initializers, as ONNX external data: an SD UNet is over protobuf's 2 GB limit). An entry is written to a temporary
/// folder and renamed into place, so a crash mid-write leaves no entry that looks complete. Writing an entry for a
/// model removes that model's older entries (same source path, other key).
/// </remarks>
public sealed class OptimizedModelCache(string root, long minimumModelBytes)
{
    public const string ModelFileName = "model.onnx";
    public const string DataFileName = "model.onnx.data";

    public string Root { get; } = root;

    /// <summary>Models smaller than this (graph plus its folder's other files) are not cached: optimising them takes well under a second.</summary>
    public long MinimumModelBytes { get; } = minimumModelBytes;

    /// <summary>The entry for <paramref name="modelPath"/> optimised by <paramref name="provider"/>, or null when the model is too small to be worth one.</summary>
    public Entry? EntryFor(string modelPath, string provider, GraphOptimizationLevel level)
    {
        var fullPath = Path.GetFullPath(modelPath);
        var folder = new DirectoryInfo(Path.GetDirectoryName(fullPath)!);
        var files = folder.GetFiles().OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var sourceBytes = files.Sum(f => f.Length);
        if (sourceBytes < MinimumModelBytes) return null;

        var key = new StringBuilder()
            .Append("ort=").Append(OrtEnv.Instance().GetVersionString())
            .Append(";provider=").Append(provider)
            .Append(";level=").Append(level)
            .Append(";cpu=").Append(InstructionSets())
            .Append(";model=").Append(Path.GetFileName(fullPath));
        foreach (var file in files)
            key.Append(';').Append(file.Name).Append('=').Append(file.Length).Append('@').Append(file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));

        var sourceHash = Hash(fullPath);
        var label = Sanitize($"{folder.Parent?.Name}-{folder.Name}");
        return new Entry(this, fullPath, sourceBytes, Path.Combine(Root, $"{label}-{sourceHash}-{Hash(key.ToString())}"), $"{label}-{sourceHash}-");
    }

    /// <summary>The CPU features ONNX Runtime's kernels (MLAS) choose their code and blocked layouts by.</summary>
    internal static string InstructionSets()
    {
        var parts = new List<string> { RuntimeInformation.ProcessArchitecture.ToString() };
        if (Avx512F.IsSupported) parts.Add("avx512f");
        if (Avx512BW.IsSupported) parts.Add("avx512bw");
        if (Avx512Vbmi.IsSupported) parts.Add("avx512vbmi");
        if (Avx2.IsSupported) parts.Add("avx2");
        if (Fma.IsSupported) parts.Add("fma");
        if (AvxVnni.IsSupported) parts.Add("avxvnni");
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) parts.Add("neon");
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) parts.Add("dotprod");
        return string.Join('+', parts);
    }

    private static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    private static string Sanitize(string label)
    {
        var chars = label.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return new string(chars).Trim('.');
    }

    /// <summary>One model's entry: where its optimised graph is, or will be written.</summary>
    public sealed class Entry
    {
        private readonly OptimizedModelCache _cache;
        private readonly string _siblingPrefix;

        internal Entry(OptimizedModelCache cache, string sourcePath, long sourceBytes, string folder, string siblingPrefix)
        {
            _cache = cache;
            SourcePath = sourcePath;
            ExpectedBytes = sourceBytes;
            Folder = folder;
            _siblingPrefix = siblingPrefix;
        }

        public string SourcePath { get; }
        public string Folder { get; }
        public string ModelPath => Path.Combine(Folder, ModelFileName);
        public bool Exists => File.Exists(ModelPath);

        /// <summary>Bytes the entry takes on disk (0 before it is written).</summary>
        public long Bytes => Directory.Exists(Folder) ? new DirectoryInfo(Folder).GetFiles().Sum(f => f.Length) : 0;

        /// <summary>Bytes the entry will take: about the size of the source model's folder (read once, with the key).</summary>
        public long ExpectedBytes { get; }

        /// <summary>A fresh temporary folder beside the entry for ONNX Runtime to write into; <see cref="Commit"/> moves it into place.</summary>
        public string CreateStaging()
        {
            Directory.CreateDirectory(_cache.Root);
            var staging = Path.Combine(_cache.Root, $".staging-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            return staging;
        }

        /// <summary>
        /// Moves a completely written staging folder into place (another process may have won the race: then its entry
        /// stays and ours is dropped) and removes this model's entries under other keys.
        /// </summary>
        public void Commit(string staging)
        {
            File.WriteAllText(Path.Combine(staging, "source.txt"),
                $"source: {SourcePath}\nonnxruntime: {OrtEnv.Instance().GetVersionString()}\ncpu: {InstructionSets()}\n");
            try
            {
                Directory.Move(staging, Folder);
            }
            catch (IOException) when (Exists)
            {
                DeleteQuietly(staging);
            }
            foreach (var stale in Directory.EnumerateDirectories(_cache.Root, _siblingPrefix + "*"))
            {
                if (!string.Equals(Path.GetFullPath(stale), Path.GetFullPath(Folder), StringComparison.Ordinal)) DeleteQuietly(stale);
            }
        }

        /// <summary>Removes the entry (it failed to load).</summary>
        public void Delete() => DeleteQuietly(Folder);

        internal static void DeleteQuietly(string folder)
        {
            try
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
