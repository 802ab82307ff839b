using System.Globalization;
using System.Runtime.InteropServices;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Loras;

/// <summary>A LoRA file to merge, with the multipliers its prompt tag gave.</summary>
public sealed record LoraApplication(string Name, string FilePath, float TextEncoderMultiplier, float UNetMultiplier);

/// <summary>
/// Merges kohya/A1111 LoRA files (<c>lora_unet_*</c>, <c>lora_te_*</c>, SDXL <c>lora_te1_</c>/<c>lora_te2_</c>; linear
/// and conv/LoCon <c>lora_down</c>/<c>lora_up</c>/<c>alpha</c>, LoHa, LoKr, DoRA — see <see cref="LycorisModule"/>) into
/// the fp32 <c>weights.bin</c> of a converted model: <c>W' = W + m · scale · ΔW</c>, with conv weights flattened to
/// matrices as kohya's conv LoRA does, then written in the layout the graph set's manifest gives (transposed where the
/// graph keeps a MatMul weight transposed). Several modules on one weight are merged one after the other.
/// </summary>
/// <remarks>
/// A kohya module name is the diffusers/transformers module path with <c>.</c> turned into <c>_</c> under a prefix, so
/// names are matched against the manifest's keys rather than parsed (underscores inside names like <c>to_q</c> make
/// parsing ambiguous). Everything that is not merged is reported: unknown modules (LDM-named ones too), LoHa/LoKr/
/// Tucker-decomposed and other LyCORIS types, shapes that do not fit. LDM-named UNet modules are matched through the converted checkpoint's
/// own LDM → diffusers key correspondence.
/// </remarks>
public static class LoraMerger
{
    internal sealed record Contribution(LycorisModule Module, float Multiplier);

    /// <summary>
    /// kohya module name → the manifest tensors holding that module's weight, per component. With
    /// <paramref name="checkpointKeys"/> (diffusers key → the checkpoint's LDM key, from the conversion) the LDM-named
    /// UNet modules some trainers write (<c>lora_unet_input_blocks_4_1_proj_in</c>) are known too.
    /// </summary>
    public static Dictionary<string, List<(string Component, ManifestTensor Tensor)>> ModuleIndex(GraphSet set,
        IEnumerable<(string Component, string Key, string CheckpointKey)>? checkpointKeys = null)
    {
        var sdxl = set.Info.Family == "sdxl";
        var index = new Dictionary<string, List<(string, ManifestTensor)>>(StringComparer.Ordinal);
        foreach (var (component, manifest) in set.Manifests)
        {
            var prefix = component switch
            {
                "unet" => "lora_unet_",
                "text_encoder" => sdxl ? "lora_te1_" : "lora_te_",
                "text_encoder_2" => "lora_te2_",
                _ => null,
            };
            if (prefix is null) continue;
            foreach (var tensor in manifest.Tensors)
            {
                if (!tensor.Key.EndsWith(".weight", StringComparison.Ordinal)) continue;
                var name = prefix + tensor.Key[..^".weight".Length].Replace('.', '_');
                if (!index.TryGetValue(name, out var list)) index[name] = list = [];
                list.Add((component, tensor));
            }
        }
        const string ldmUNet = "model.diffusion_model.";
        foreach (var (component, key, checkpointKey) in checkpointKeys ?? [])
        {
            if (component != "unet" || !checkpointKey.StartsWith(ldmUNet, StringComparison.Ordinal) || !checkpointKey.EndsWith(".weight", StringComparison.Ordinal)
                || !key.EndsWith(".weight", StringComparison.Ordinal)) continue;
            var alias = "lora_unet_" + checkpointKey[ldmUNet.Length..^".weight".Length].Replace('.', '_');
            if (!index.ContainsKey(alias) && index.TryGetValue("lora_unet_" + key[..^".weight".Length].Replace('.', '_'), out var targets)) index[alias] = targets;
        }
        return index;
    }

    /// <summary>
    /// Writes into <paramref name="target"/>/&lt;component&gt;/weights.bin the merged weights of every component a LoRA
    /// touches (copied from <paramref name="baseFolder"/> first); returns those components. Problems go to <paramref name="warnings"/>.
    /// </summary>
    public static IReadOnlyList<string> Merge(string baseFolder, GraphSet set, IReadOnlyList<LoraApplication> loras, string target,
        List<string> warnings, CancellationToken cancellationToken, IEnumerable<(string Component, string Key, string CheckpointKey)>? checkpointKeys = null)
    {
        var index = ModuleIndex(set, checkpointKeys);
        var ldmNamed = checkpointKeys is not null;
        var files = new List<SafetensorsFile>();
        var work = new Dictionary<string, Dictionary<ManifestTensor, List<Contribution>>>(StringComparer.Ordinal);
        try
        {
            PlanAll(loras, set.Info.Family == "sdxl", set.Name, index, t => t.KeyShape, ldmNamed, work, warnings, files);

            var components = new List<string>();
            var float16 = CheckpointConverter.Float16ComponentsOf(baseFolder);
            foreach (var (component, tensors) in work)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var manifest = set.Manifests[component];
                // A checkpoint converted for a GPU provider keeps fp16 weights: merge in fp32, store fp16 at the fp16 offsets.
                var half = float16.Contains(component);
                var placed = half ? Float16Graph.HalfManifest(manifest).Tensors.ToDictionary(t => t.Initializer, StringComparer.Ordinal) : null;
                var folder = Path.Combine(target, component);
                Directory.CreateDirectory(folder);
                var weights = Path.Combine(folder, manifest.WeightsFile);
                File.Copy(Path.Combine(baseFolder, component, manifest.WeightsFile), weights, overwrite: true);
                using var handle = File.OpenHandle(weights, FileMode.Open, FileAccess.ReadWrite);
                foreach (var (tensor, contributions) in tensors.OrderBy(t => t.Key.Offset))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var values = new float[tensor.Length / sizeof(float)];
                    var halves = half ? new Half[values.Length] : null;
                    var offset = placed?[tensor.Initializer].Offset ?? tensor.Offset;
                    if (halves is not null)
                    {
                        RandomAccess.Read(handle, MemoryMarshal.AsBytes(halves.AsSpan()), offset);
                        for (var i = 0; i < values.Length; i++) values[i] = (float)halves[i];
                    }
                    else
                    {
                        RandomAccess.Read(handle, MemoryMarshal.AsBytes(values.AsSpan()), offset);
                    }
                    // The initializer of a "transpose" tensor is the diffusers [out, in] weight transposed: [in, out].
                    var transposed = tensor.Transform == "transpose";
                    var weight = transposed ? Transpose(values, (int)(values.Length / tensor.KeyShape[0]), (int)tensor.KeyShape[0]) : values;
                    foreach (var c in contributions) c.Module.Apply(weight, c.Multiplier);
                    if (transposed) values = Transpose(weight, (int)tensor.KeyShape[0], values.Length / (int)tensor.KeyShape[0]);
                    if (halves is not null)
                    {
                        for (var i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
                        RandomAccess.Write(handle, MemoryMarshal.AsBytes(halves.AsSpan()), offset);
                    }
                    else
                    {
                        RandomAccess.Write(handle, MemoryMarshal.AsBytes(values.AsSpan()), offset);
                    }
                }
                components.Add(component);
            }
            return components;
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
    }

    /// <summary>
    /// Which modules of <paramref name="file"/> go to which weights (<paramref name="work"/>: component → weight → merges
    /// in order); everything that cannot be merged is summarised in <paramref name="warnings"/>.
    /// </summary>
    /// <summary>Opens each LoRA (kept open in <paramref name="files"/> for the merge) and plans it; an unreadable one is a warning.</summary>
    internal static void PlanAll<T>(IReadOnlyList<LoraApplication> loras, bool sdxl, string modelName,
        Dictionary<string, List<(string Component, T Tensor)>> index, Func<T, long[]> keyShape, bool ldmNamed,
        Dictionary<string, Dictionary<T, List<Contribution>>> work, List<string> warnings, List<SafetensorsFile> files) where T : notnull
    {
        foreach (var lora in loras)
        {
            SafetensorsFile file;
            try
            {
                file = SafetensorsFile.Open(lora.FilePath, lora.Name);
            }
            catch (CheckpointException ex)
            {
                warnings.Add($"LoRA '{lora.Name}' cannot be read and was not applied: {ex.Message}");
                continue;
            }
            files.Add(file);
            Plan(file, lora, sdxl, modelName, index, keyShape, ldmNamed, work, warnings);
        }
    }

    internal static void Plan<T>(SafetensorsFile file, LoraApplication lora, bool sdxl, string modelName,
        Dictionary<string, List<(string Component, T Tensor)>> index, Func<T, long[]> keyShape, bool ldmNamed,
        Dictionary<string, Dictionary<T, List<Contribution>>> work, List<string> warnings) where T : notnull
    {
        var modules = new SortedDictionary<string, Dictionary<string, SafetensorsTensor>>(StringComparer.Ordinal);
        foreach (var (key, tensor) in file.Tensors)
        {
            var dot = key.IndexOf('.');
            var module = dot < 0 ? key : key[..dot];
            if (!modules.TryGetValue(module, out var parts)) modules[module] = parts = new(StringComparer.Ordinal);
            parts[dot < 0 ? "" : key[dot..]] = tensor;
        }

        var unknown = new List<string>();
        var unsupported = new List<string>();
        var mismatched = new List<string>();
        var applied = 0;
        foreach (var (module, parts) in modules)
        {
            if (!index.TryGetValue(module, out var targets))
            {
                unknown.Add(module);
                continue;
            }
            foreach (var (component, tensor) in targets)
            {
                var merge = LycorisModule.Create(file, module, parts, keyShape(tensor), out var notMerged, out var misfit);
                if (notMerged is not null) unsupported.Add(notMerged);
                if (misfit is not null) mismatched.Add(misfit);
                if (merge is null) continue;
                var multiplier = component == "unet" ? lora.UNetMultiplier : lora.TextEncoderMultiplier;
                if (multiplier == 0) continue;
                if (!work.TryGetValue(component, out var tensors)) work[component] = tensors = [];
                if (!tensors.TryGetValue(tensor, out var list)) tensors[tensor] = list = [];
                list.Add(new Contribution(merge, multiplier));
                applied++;
            }
        }

        if (unknown.Count > 0)
        {
            var hint = unknown.Any(u => u.StartsWith("lora_te1_", StringComparison.Ordinal) || u.StartsWith("lora_te2_", StringComparison.Ordinal)) && !sdxl
                ? " (an SDXL LoRA on a non-SDXL model?)"
                : !ldmNamed && unknown.Any(u => u.Contains("input_blocks", StringComparison.Ordinal) || u.Contains("output_blocks", StringComparison.Ordinal) || u.Contains("middle_block", StringComparison.Ordinal))
                    ? " (LDM-named UNet modules are not mapped yet)"
                    : applied == 0 ? $" (made for another architecture than {modelName}?)" : "";
            warnings.Add($"LoRA '{lora.Name}': {unknown.Count} module(s) match no weight of {modelName}{hint} and were not applied, like {string.Join(", ", unknown.Take(3))}.");
        }
        if (unsupported.Count > 0)
            warnings.Add($"LoRA '{lora.Name}': {unsupported.Count} module(s) are not a form SdBlazor merges (LoRA/LoCon, LoHa, LoKr, each with or without DoRA; Tucker-decomposed and other LyCORIS types are not) and were not applied, like {string.Join("; ", unsupported.Take(3))}.");
        if (mismatched.Count > 0)
            warnings.Add($"LoRA '{lora.Name}': {mismatched.Count} module(s) have shapes that do not fit and were not applied, like {string.Join("; ", mismatched.Take(3))}.");
        if (applied == 0 && modules.Count > 0 && unknown.Count + unsupported.Count + mismatched.Count == 0 && (lora.UNetMultiplier != 0 || lora.TextEncoderMultiplier != 0))
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"LoRA '{lora.Name}': nothing to apply with multipliers te={lora.TextEncoderMultiplier}, unet={lora.UNetMultiplier}."));
        else if (modules.Count == 0)
            warnings.Add($"LoRA '{lora.Name}' holds no tensors.");
    }

    /// <summary>[rows × columns] → [columns × rows].</summary>
    internal static float[] Transpose(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) result[c * rows + r] = values[r * columns + c];
        return result;
    }
}
