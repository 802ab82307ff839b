using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// Makes an fp16 twin of a graph-set graph for GPU providers: weights stored and computed in fp16, the graph's
/// inputs and outputs still fp32 (casts at the boundary), so the pipelines see the same tensors as from the fp32
/// graph. What stays fp32: the inputs named in <c>keepFloat32</c> and everything computed from them alone (the
/// sinusoidal timestep / size embeddings: fp16 cannot hold <c>t · freq</c> for t near 999 precisely enough, and
/// diffusers computes them in fp32 too), cast to fp16 where they meet a weight; and the inputs whose type the
/// operator fixes (<c>Resize</c>'s roi and scales).
/// </summary>
/// <remarks>
/// Hand-written because ONNX's converter (onnxconverter-common) is Python; the graph sets are small torch exports
/// with no sub-graphs, so the rule is simple: a node computes in fp16 when any of its float inputs is fp16, otherwise
/// in fp32; float <c>Constant</c>s get an fp16 twin where an fp16 node reads them.
/// </remarks>
public static class Float16Graph
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Float16 = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Operators whose outputs are never float, whatever their inputs.</summary>
    private static readonly HashSet<string> NonFloatOutputs = ["Shape", "Size", "ArgMax", "ArgMin", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "NonZero", "IsNaN", "IsInf"];

    /// <summary>
    /// The fp16 layout of <paramref name="fp32"/>: the same tensors in the same order, 2 bytes per element, 64-byte
    /// aligned as the graph-set tool aligns them.
    /// </summary>
    public static WeightManifest HalfManifest(WeightManifest fp32)
    {
        var tensors = new List<ManifestTensor>(fp32.Tensors.Count);
        var offset = 0L;
        foreach (var t in fp32.Tensors.OrderBy(t => t.Offset))
        {
            var length = t.Length / 2;
            tensors.Add(new ManifestTensor { Initializer = t.Initializer, Key = t.Key, Transform = t.Transform, Shape = t.Shape, Offset = offset, Length = length });
            offset = (offset + length + 63) / 64 * 64;
        }
        return new WeightManifest { Format = fp32.Format, Component = fp32.Component, WeightsFile = fp32.WeightsFile, TotalBytes = offset, Tensors = tensors };
    }

    /// <summary>Edits <paramref name="model"/> in place; its external initializers then point into <paramref name="half"/>'s layout.</summary>
    /// <exception cref="NotSupportedException">The graph has sub-graphs or weights the manifest does not place.</exception>
    public static void Convert(ModelProto model, WeightManifest half, IReadOnlySet<string> keepFloat32)
    {
        var graph = model.Graph;
        if (graph.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)))
            throw new NotSupportedException("the graph has sub-graphs");

        var type = new Dictionary<string, int>(StringComparer.Ordinal);
        var placed = half.Tensors.ToDictionary(t => t.Initializer, StringComparer.Ordinal);
        foreach (var init in graph.Initializer)
        {
            if (init.DataType != Float) continue;
            if (init.DataLocation != TensorProto.Types.DataLocation.External || !placed.TryGetValue(init.Name, out var tensor))
                throw new NotSupportedException($"initializer '{init.Name}' is not a manifest weight");
            init.DataType = Float16;
            init.ExternalData.Clear();
            init.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = half.WeightsFile });
            init.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = tensor.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            init.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = tensor.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            type[init.Name] = Float16;
        }

        var nodes = new List<NodeProto>(graph.Node.Count + 64);
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in graph.Input)
        {
            if (input.Type?.TensorType?.ElemType != Float) continue;
            if (keepFloat32.Contains(input.Name))
            {
                type[input.Name] = Float;
                continue;
            }
            var cast = input.Name + "/fp16";
            nodes.Add(CastNode(input.Name, cast, Float16));
            rename[input.Name] = cast;
            type[cast] = Float16;
        }

        var constants = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        var twins = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
                if (rename.TryGetValue(node.Input[i], out var renamed)) node.Input[i] = renamed;

            if (node.OpType == "Constant" && node.Domain is "" or "ai.onnx")
            {
                if (node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { DataType: Float } value)
                {
                    if (value.DataLocation == TensorProto.Types.DataLocation.External) throw new NotSupportedException($"Constant '{node.Name}' keeps its value in an external file");
                    constants[node.Output[0]] = value;
                }
                else if (node.Attribute.Any(a => a.Name is "value_float" or "value_floats")) throw new NotSupportedException($"Constant '{node.Name}' uses value_float(s)");
                nodes.Add(node);
                continue;
            }

            var slots = Enumerable.Range(0, node.Input.Count)
                .Where(i => node.Input[i].Length > 0 && (type.ContainsKey(node.Input[i]) || constants.ContainsKey(node.Input[i])) && !FixedFloat(node, i))
                .ToList();
            var half16 = slots.Any(i => type.GetValueOrDefault(node.Input[i]) == Float16);
            if (half16)
            {
                foreach (var i in slots)
                {
                    var name = node.Input[i];
                    if (type.GetValueOrDefault(name) == Float16) continue;
                    if (!twins.TryGetValue(name, out var twin))
                    {
                        twin = name + "/fp16";
                        nodes.Add(constants.TryGetValue(name, out var constant) ? HalfConstant(constant, twin) : CastNode(name, twin, Float16));
                        type[twin] = Float16;
                        twins[name] = twin;
                    }
                    node.Input[i] = twin;
                }
            }
            var mode = half16 ? Float16 : Float;

            if (node.OpType == "Cast")
            {
                var to = node.Attribute.First(a => a.Name == "to");
                if (to.I == Float && half16) to.I = Float16;
                if (to.I is Float or Float16) type[node.Output[0]] = (int)to.I;
            }
            else if (node.OpType == "ConstantOfShape")
            {
                if (node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { DataType: Float }) type[node.Output[0]] = Float;
            }
            else if (slots.Count > 0 && !NonFloatOutputs.Contains(node.OpType))
            {
                foreach (var output in node.Output)
                    if (output.Length > 0) type[output] = mode;
            }
            nodes.Add(node);
        }

        // Graph outputs computed in fp16 are cast back under their own names; whatever else reads them reads the fp16 value.
        var outputRenames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var output in graph.Output)
        {
            if (output.Type?.TensorType?.ElemType != Float || type.GetValueOrDefault(output.Name) != Float16) continue;
            outputRenames[output.Name] = output.Name + "/fp16";
        }
        if (outputRenames.Count > 0)
        {
            foreach (var node in nodes)
            {
                for (var i = 0; i < node.Input.Count; i++)
                    if (outputRenames.TryGetValue(node.Input[i], out var r)) node.Input[i] = r;
                for (var i = 0; i < node.Output.Count; i++)
                    if (outputRenames.TryGetValue(node.Output[i], out var r)) node.Output[i] = r;
            }
            foreach (var (name, half16Name) in outputRenames) nodes.Add(CastNode(half16Name, name, Float));
        }

        // fp32 constants whose every reader now takes the fp16 twin would be dropped by ONNX Runtime with a warning each.
        var read = new HashSet<string>(nodes.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)), StringComparer.Ordinal);
        nodes.RemoveAll(n => n.OpType == "Constant" && !read.Contains(n.Output[0]));
        graph.Node.Clear();
        graph.Node.Add(nodes);
        // Intermediate float types changed; ONNX Runtime infers them again.
        var keep = graph.ValueInfo.Where(v => v.Type?.TensorType is not { ElemType: Float }).ToList();
        graph.ValueInfo.Clear();
        graph.ValueInfo.Add(keep);
    }

    /// <summary>Inputs an operator defines as float whatever the data's type.</summary>
    private static bool FixedFloat(NodeProto node, int input) => node.OpType == "Resize" && input >= 1;

    private static NodeProto CastNode(string input, string output, int to)
    {
        var node = new NodeProto { OpType = "Cast", Name = output + "/cast" };
        node.Input.Add(input);
        node.Output.Add(output);
        node.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to });
        return node;
    }

    private static NodeProto HalfConstant(TensorProto value, string output)
    {
        var floats = value.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(value.RawData.Span).ToArray() : value.FloatData.ToArray();
        var halves = new Half[floats.Length];
        for (var i = 0; i < floats.Length; i++) halves[i] = (Half)floats[i];
        var tensor = new TensorProto { DataType = Float16, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan())) };
        tensor.Dims.Add(value.Dims);
        var node = new NodeProto { OpType = "Constant", Name = output + "/constant" };
        node.Output.Add(output);
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor });
        return node;
    }
}
