using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Loras;

/// <summary>A LoRA file to merge, with the multipliers its prompt tag gave.</summary>
public sealed record LoraApplication(string Name, string FilePath, float TextEncoderMultiplier, float UNetMultiplier);

/// <summary>
/// Merges kohya/A1111 LoRA files (<c>lora_unet_*</c>, <c>lora_te_*</c>, SDXL <c>lora_te1_</c>/<c>lora_te2_</c>; linear
/// and conv/LoCon <c>lora_down</c>/<c>lora_up</c>/<c>alpha</c>) into the fp32 <c>weights.bin</c> of a converted model:
/// <c>W' = W + m · (alpha / rank) · up · down</c>, with up [out, r(,1,1)] and down [r, in(,k,k)] flattened to matrices
/// as kohya's conv LoRA does, the product reshaped to the weight's diffusers shape, then written in the layout the
/// graph set's manifest gives (transposed where the graph keeps a MatMul weight transposed).
/// </summary>
/// <remarks>
/// A kohya module name is the diffusers/transformers module path with <c>.</c> turned into <c>_</c> under a prefix, so
/// names are matched against the manifest's keys rather than parsed (underscores inside names like <c>to_q</c> make
/// parsing ambiguous). Everything that is not merged is reported: unknown modules (LDM-named ones too), LoHa/LoKr/
/// other LyCORIS types, shapes that do not fit. LDM-named UNet modules are matched through the converted checkpoint's
/// own LDM → diffusers key correspondence.
/// </remarks>
public static class LoraMerger
{
    private const string Down = ".lora_down.weight", Up = ".lora_up.weight", Alpha = ".alpha";

    private sealed record Contribution(SafetensorsFile File, SafetensorsTensor Down, SafetensorsTensor Up, float Scale, int Rank, int Rows, int Columns);

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
                Plan(file, lora, set, index, ldmNamed, work, warnings);
            }

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
                    var delta = new float[values.Length];
                    foreach (var c in contributions) AddProduct(c, delta);
                    if (tensor.Transform == "transpose")
                    {
                        // The initializer is the diffusers [out, in] weight transposed: [in, out].
                        var rows = (int)tensor.KeyShape[0];
                        var columns = values.Length / rows;
                        for (var o = 0; o < rows; o++)
                            for (var i = 0; i < columns; i++) values[i * rows + o] += delta[o * columns + i];
                    }
                    else
                    {
                        for (var i = 0; i < values.Length; i++) values[i] += delta[i];
                    }
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

    private static void Plan(SafetensorsFile file, LoraApplication lora, GraphSet set,
        Dictionary<string, List<(string Component, ManifestTensor Tensor)>> index, bool ldmNamed,
        Dictionary<string, Dictionary<ManifestTensor, List<Contribution>>> work, List<string> warnings)
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
            if (!parts.TryGetValue(Down, out var down) || !parts.TryGetValue(Up, out var up))
            {
                unsupported.Add($"{module} ({string.Join(", ", parts.Keys.Select(p => p.TrimStart('.')))})");
                continue;
            }
            if (parts.Keys.Any(p => p is not (Down or Up or Alpha)))
            {
                // LoCon's Tucker-decomposed conv (lora_mid) or DoRA's scale: merging only up·down would be wrong.
                unsupported.Add($"{module} ({string.Join(", ", parts.Keys.Where(p => p is not (Down or Up or Alpha)).Select(p => p.TrimStart('.')))})");
                continue;
            }
            if (!index.TryGetValue(module, out var targets))
            {
                unknown.Add(module);
                continue;
            }
            var rank = down.Shape.Length >= 2 ? down.Shape[0] : 0;
            var columns = down.Shape.Skip(1).Aggregate(1L, (a, d) => a * d);
            var rows = up.Shape.Length >= 2 ? up.Shape[0] : 0;
            var upOk = up.Shape.Length >= 2 && up.Shape[1] == rank && up.Shape.Skip(2).All(d => d == 1);
            var alpha = (float)rank;
            if (parts.TryGetValue(Alpha, out var alphaTensor))
            {
                if (alphaTensor.ElementCount != 1) { mismatched.Add($"{module}: alpha has {alphaTensor.ElementCount} elements"); continue; }
                var one = new float[1];
                try { file.ReadFloat32(alphaTensor, 0, one); }
                catch (CheckpointException ex) { mismatched.Add($"{module}: {ex.Message}"); continue; }
                alpha = one[0];
            }
            foreach (var (component, tensor) in targets)
            {
                var keyShape = tensor.KeyShape;
                var keyColumns = keyShape.Skip(1).Aggregate(1L, (a, d) => a * d);
                if (rank <= 0 || !upOk || keyShape.Length < 2 || rows != keyShape[0] || columns != keyColumns || !float.IsFinite(alpha))
                {
                    mismatched.Add($"{module}: down {down.ShapeText}, up {up.ShapeText} do not fit {tensor.Key} [{string.Join(", ", keyShape)}]");
                    continue;
                }
                var multiplier = component == "unet" ? lora.UNetMultiplier : lora.TextEncoderMultiplier;
                if (multiplier == 0) continue;
                if (!work.TryGetValue(component, out var tensors)) work[component] = tensors = [];
                if (!tensors.TryGetValue(tensor, out var list)) tensors[tensor] = list = [];
                list.Add(new Contribution(file, down, up, multiplier * alpha / rank, (int)rank, (int)rows, (int)columns));
                applied++;
            }
        }

        if (unknown.Count > 0)
        {
            var hint = unknown.Any(u => u.StartsWith("lora_te1_", StringComparison.Ordinal) || u.StartsWith("lora_te2_", StringComparison.Ordinal)) && set.Info.Family != "sdxl"
                ? " (an SDXL LoRA on a non-SDXL model?)"
                : !ldmNamed && unknown.Any(u => u.Contains("input_blocks", StringComparison.Ordinal) || u.Contains("output_blocks", StringComparison.Ordinal) || u.Contains("middle_block", StringComparison.Ordinal))
                    ? " (LDM-named UNet modules are not mapped yet)"
                    : applied == 0 ? $" (made for another architecture than {set.Name}?)" : "";
            warnings.Add($"LoRA '{lora.Name}': {unknown.Count} module(s) match no weight of {set.Name}{hint} and were not applied, like {string.Join(", ", unknown.Take(3))}.");
        }
        if (unsupported.Count > 0)
            warnings.Add($"LoRA '{lora.Name}': {unsupported.Count} module(s) are not plain LoRA/LoCon (LoHa, LoKr, Tucker and DoRA are not supported) and were not applied, like {string.Join("; ", unsupported.Take(3))}.");
        if (mismatched.Count > 0)
            warnings.Add($"LoRA '{lora.Name}': {mismatched.Count} module(s) have shapes that do not fit and were not applied, like {string.Join("; ", mismatched.Take(3))}.");
        if (applied == 0 && modules.Count > 0 && unknown.Count + unsupported.Count + mismatched.Count == 0 && (lora.UNetMultiplier != 0 || lora.TextEncoderMultiplier != 0))
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"LoRA '{lora.Name}': nothing to apply with multipliers te={lora.TextEncoderMultiplier}, unet={lora.UNetMultiplier}."));
        else if (modules.Count == 0)
            warnings.Add($"LoRA '{lora.Name}' holds no tensors.");
    }

    /// <summary>delta[rows, columns] += scale · up[rows, rank] · down[rank, columns].</summary>
    private static void AddProduct(Contribution c, float[] delta)
    {
        var up = new float[c.Rows * c.Rank];
        var down = new float[c.Rank * c.Columns];
        c.File.ReadFloat32(c.Up, 0, up);
        c.File.ReadFloat32(c.Down, 0, down);
        var width = Vector<float>.Count;
        for (var o = 0; o < c.Rows; o++)
        {
            var row = delta.AsSpan(o * c.Columns, c.Columns);
            for (var k = 0; k < c.Rank; k++)
            {
                var u = c.Scale * up[o * c.Rank + k];
                if (u == 0) continue;
                var source = down.AsSpan(k * c.Columns, c.Columns);
                var uv = new Vector<float>(u);
                var i = 0;
                for (; i <= c.Columns - width; i += width)
                    (new Vector<float>(row[i..]) + uv * new Vector<float>(source[i..])).CopyTo(row[i..]);
                for (; i < c.Columns; i++) row[i] += u * source[i];
            }
        }
    }
}
