using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using SdBlazor.Engine.Models;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Loras;

/// <summary>
/// LoRAs merged into a diffusers-ONNX folder, which has no weight manifest: the initializers are mapped to diffusers
/// module names from the graph itself. torch.onnx keeps a parameter's module path as the initializer name
/// (<c>down_blocks.0.resnets.0.conv1.weight</c>) unless it exports it transposed for a <c>MatMul</c>; then the
/// initializer is anonymous (<c>onnx::MatMul_1234</c>, [in, out]) and the module path is the consuming node's name
/// (<c>/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul</c>). fp16 exports reach the same nodes
/// through a <c>Cast</c>. Text encoders exported without the <c>text_model.</c> wrapper (<c>/layers.0/self_attn/…</c>)
/// are matched under <c>text_model.encoder.</c> as kohya names them. Graphs whose weights were folded or renamed by an
/// optimiser map partly or not at all: those modules are reported, never silently dropped.
/// </summary>
internal static class OnnxFolderLoras
{
    internal sealed record OnnxWeight(string Initializer, long[] KeyShape, bool Transposed);

    private static readonly string[] Components = ["unet", "text_encoder", "text_encoder_2"];

    /// <summary>Writes the merged components of <paramref name="baseFolder"/> into <paramref name="target"/>; returns them.</summary>
    public static IReadOnlyList<string> Merge(ModelFolder baseFolder, IReadOnlyList<LoraApplication> loras, string target, List<string> warnings, CancellationToken cancellationToken)
    {
        var models = new Dictionary<string, ModelProto>(StringComparer.Ordinal);
        var index = new Dictionary<string, List<(string Component, OnnxWeight Tensor)>>(StringComparer.Ordinal);
        foreach (var component in Components)
        {
            var path = Path.Combine(baseFolder.Path, component, "model.onnx");
            if (!File.Exists(path)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            models[component] = model;
            Index(model.Graph, component, baseFolder.IsSdxl, index);
        }
        var names = string.Join(", ", loras.Select(l => l.Name));
        if (index.Count == 0)
        {
            warnings.Add($"Model '{baseFolder.Name}' is a diffusers-ONNX folder whose initializers and nodes carry no diffusers/transformers module names (as a torch.onnx export of diffusers keeps them), so no LoRA module can be mapped to its weights; the image was made without {names}.");
            return [];
        }

        var files = new List<SafetensorsFile>();
        var work = new Dictionary<string, Dictionary<OnnxWeight, List<LoraMerger.Contribution>>>(StringComparer.Ordinal);
        try
        {
            LoraMerger.PlanAll(loras, baseFolder.IsSdxl, baseFolder.Name, index, w => w.KeyShape, ldmNamed: false, work, warnings, files);
            var touched = new List<string>();
            foreach (var (component, weights) in work)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (WriteComponent(baseFolder, component, models[component], weights, target, warnings, cancellationToken)) touched.Add(component);
            }
            return touched;
        }
        finally
        {
            foreach (var file in files) file.Dispose();
        }
    }

    /// <summary>kohya module name → weight, for one component's graph.</summary>
    internal static void Index(GraphProto graph, string component, bool sdxl, Dictionary<string, List<(string Component, OnnxWeight Tensor)>> index)
    {
        var prefix = component switch
        {
            "unet" => "lora_unet_",
            "text_encoder" => sdxl ? "lora_te1_" : "lora_te_",
            _ => "lora_te2_",
        };
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var casts = graph.Node.Where(n => n.OpType == "Cast" && n.Input.Count == 1 && initializers.ContainsKey(n.Input[0]))
            .ToDictionary(n => n.Output[0], n => n.Input[0], StringComparer.Ordinal);
        string? Source(string input) => initializers.ContainsKey(input) ? input : casts.GetValueOrDefault(input);

        var weights = new Dictionary<string, OnnxWeight>(StringComparer.Ordinal);
        foreach (var node in graph.Node.Where(n => n.OpType is "MatMul" or "Gemm" && n.Input.Count >= 2 && n.Name.Length > 1))
        {
            if (Source(node.Input[1]) is not { } name || initializers[name].Dims.Count != 2) continue;
            var slash = node.Name.LastIndexOf('/');
            if (slash <= 0) continue;
            var module = node.Name[..slash].TrimStart('/').Replace('/', '.');
            // MatMul(x, W) holds the Linear weight transposed, [in, out]; Gemm with transB = 1 holds it as [out, in].
            var transposed = node.OpType == "MatMul" || !node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
            var dims = initializers[name].Dims.ToArray();
            weights.TryAdd(module, new OnnxWeight(name, transposed ? [dims[1], dims[0]] : dims, transposed));
        }
        foreach (var (name, tensor) in initializers)
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal) || tensor.Dims.Count < 2 || weights.Values.Any(w => w.Initializer == name)) continue;
            weights.TryAdd(name[..^".weight".Length], new OnnxWeight(name, [.. tensor.Dims], false));
        }
        foreach (var (module, weight) in weights)
        {
            var text = component != "unet";
            foreach (var path in text ? TextEncoderPaths(module) : [module])
            {
                var kohya = prefix + path.Replace('.', '_');
                if (!index.TryGetValue(kohya, out var list)) index[kohya] = list = [];
                list.Add((component, weight));
            }
        }
    }

    private static IEnumerable<string> TextEncoderPaths(string module)
    {
        if (module.StartsWith("text_model.", StringComparison.Ordinal)) return [module];
        if (module.StartsWith("layers.", StringComparison.Ordinal)) return ["text_model.encoder." + module];
        if (module.StartsWith("encoder.", StringComparison.Ordinal)) return ["text_model." + module];
        return [module];
    }

    private static bool WriteComponent(ModelFolder baseFolder, string component, ModelProto model, Dictionary<OnnxWeight, List<LoraMerger.Contribution>> weights,
        string target, List<string> warnings, CancellationToken cancellationToken)
    {
        var source = Path.Combine(baseFolder.Path, component);
        var destination = Directory.CreateDirectory(Path.Combine(target, component)).FullName;
        var initializers = model.Graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var handles = new Dictionary<string, Microsoft.Win32.SafeHandles.SafeFileHandle>(StringComparer.Ordinal);
        var embeddedChanged = false;
        var merged = 0;
        try
        {
            foreach (var (weight, contributions) in weights)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var tensor = initializers[weight.Initializer];
                if (tensor.DataType is not ((int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Float16))
                {
                    warnings.Add($"{component}: weight '{weight.Initializer}' is {(TensorProto.Types.DataType)tensor.DataType}; LoRAs are merged into float32/float16 weights only, so it was left as it is.");
                    continue;
                }
                var count = tensor.Dims.Aggregate(1L, (a, d) => a * d);
                var elementSize = tensor.DataType == (int)TensorProto.Types.DataType.Float ? 4 : 2;
                byte[] bytes;
                (string Location, long Offset)? external = null;
                if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
                {
                    var entries = tensor.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
                    var location = entries.GetValueOrDefault("location") ?? "";
                    var offset = long.TryParse(entries.GetValueOrDefault("offset"), out var o) ? o : 0;
                    var file = Path.GetFullPath(Path.Combine(source, location));
                    if (location.Length == 0 || Path.IsPathRooted(location) || !file.StartsWith(Path.GetFullPath(source) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new ModelFolderException($"{component}: weight '{weight.Initializer}' points outside its folder ('{location}').");
                    if (!handles.TryGetValue(location, out var handle))
                    {
                        var copy = Path.Combine(destination, location);
                        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                        File.Copy(file, copy, overwrite: true);
                        handles[location] = handle = File.OpenHandle(copy, FileMode.Open, FileAccess.ReadWrite);
                    }
                    if (offset < 0 || offset + count * elementSize > RandomAccess.GetLength(handle))
                        throw new ModelFolderException($"{component}: weight '{weight.Initializer}' lies past the end of '{location}'.");
                    bytes = new byte[count * elementSize];
                    RandomAccess.Read(handle, bytes, offset);
                    external = (location, offset);
                }
                else if (tensor.RawData.Length == count * elementSize) bytes = tensor.RawData.ToByteArray();
                else if (tensor.DataType == (int)TensorProto.Types.DataType.Float && tensor.FloatData.Count == count)
                    bytes = MemoryMarshal.AsBytes(tensor.FloatData.ToArray().AsSpan()).ToArray();
                else
                {
                    warnings.Add($"{component}: weight '{weight.Initializer}' stores its values in a form LoRAs are not merged into; it was left as it is.");
                    continue;
                }

                var values = elementSize == 4 ? MemoryMarshal.Cast<byte, float>(bytes).ToArray() : [.. MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h)];
                var rows = (int)weight.KeyShape[0];
                var columns = values.Length / rows;
                var w = weight.Transposed ? LoraMerger.Transpose(values, columns, rows) : values;
                foreach (var c in contributions) c.Module.Apply(w, c.Multiplier);
                values = weight.Transposed ? LoraMerger.Transpose(w, rows, columns) : w;
                bytes = elementSize == 4 ? MemoryMarshal.AsBytes(values.AsSpan()).ToArray() : MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray();

                if (external is { } at) RandomAccess.Write(handles[at.Location], bytes, at.Offset);
                else
                {
                    tensor.FloatData.Clear();
                    tensor.RawData = ByteString.CopyFrom(bytes);
                    embeddedChanged = true;
                }
                merged++;
            }
        }
        finally
        {
            foreach (var handle in handles.Values) handle.Dispose();
        }
        if (merged == 0)
        {
            Directory.Delete(destination, recursive: true);
            return false;
        }
        var modelPath = Path.Combine(destination, "model.onnx");
        if (embeddedChanged)
        {
            using var stream = File.Create(modelPath);
            model.WriteTo(stream);
        }
        // Everything else of the component (unchanged model.onnx, other external-data files, config.json) is copied.
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(destination, Path.GetRelativePath(source, file));
            if (File.Exists(copy)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return true;
    }
}
