using Onnx;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Lets a CLIP text encoder take textual-inversion vectors: two inputs are added, <see cref="ValuesInput"/> (float
/// [batch, tokens, width]) and <see cref="MaskInput"/> (bool [batch, tokens, 1]), and the token embeddings become
/// <c>Where(mask, values, token_embedding(input_ids))</c> before the position embeddings are added — what A1111's
/// <c>EmbeddingsWithFixes</c> does to the embedding layer's output. With an all-false mask the graph computes exactly
/// what it did before.
/// </summary>
/// <remarks>
/// Why a graph edit rather than extra rows in the token table with new ids: the pooled output finds the end token
/// by <c>ArgMax(input_ids)</c>, which ids above the vocabulary would capture; here the slots keep A1111's id 0 and the
/// graph's own token table stays untouched (no variant to write or cache per embedding set). The token-embedding
/// lookup is the <c>Gather</c> whose indices come from <c>input_ids</c> (through casts/reshapes) and whose table is a
/// rank-2 initializer (through a <c>Cast</c> or <c>DequantizeLinear</c> in fp16/quantised exports).
/// </remarks>
public static class EmbeddingInputsGraph
{
    public const string ValuesInput = "sdblazor_embedding_values";
    public const string MaskInput = "sdblazor_embedding_mask";

    private static readonly HashSet<string> ValuePreserving = ["Cast", "Reshape", "Unsqueeze", "Squeeze", "Identity", "Flatten"];

    /// <summary>Edits <paramref name="model"/> in place.</summary>
    /// <returns>The token table's width (the width an embedding's vectors must have).</returns>
    /// <exception cref="NotSupportedException">No single token-embedding lookup was found.</exception>
    public static int AddInputs(ModelProto model, string inputIdsName)
    {
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (var output in node.Output) producers[output] = node;

        var fromIds = new HashSet<string>(StringComparer.Ordinal) { inputIdsName };
        foreach (var node in graph.Node)
            if (ValuePreserving.Contains(node.OpType) && node.Input.Count > 0 && fromIds.Contains(node.Input[0]))
                foreach (var output in node.Output) fromIds.Add(output);

        var lookups = new List<(NodeProto Gather, TensorProto Table, int ElementType)>();
        foreach (var node in graph.Node.Where(n => n.OpType == "Gather" && n.Input.Count == 2 && fromIds.Contains(n.Input[1])))
            if (Table(node.Input[0], initializers, producers) is { } table && table.Item1.Dims.Count == 2) lookups.Add((node, table.Item1, table.Item2));
        if (lookups.Count != 1)
            throw new NotSupportedException($"text_encoder: found {lookups.Count} token-embedding lookups (a Gather of input_ids from a [vocab, width] table); one is needed to inject textual-inversion embeddings.");
        var (gather, tokenTable, elementType) = lookups[0];
        var width = tokenTable.Dims[1];

        var embeddings = gather.Output[0];
        var injected = embeddings + "/sdblazor_embeddings";
        foreach (var node in graph.Node)
            for (var k = 0; k < node.Input.Count; k++)
                if (node.Input[k] == embeddings) node.Input[k] = injected;
        foreach (var output in graph.Output.Where(o => o.Name == embeddings)) output.Name = injected;

        graph.Input.Add(Input(ValuesInput, (int)TensorProto.Types.DataType.Float, width));
        graph.Input.Add(Input(MaskInput, (int)TensorProto.Types.DataType.Bool, 1));
        var values = ValuesInput;
        if (elementType != (int)TensorProto.Types.DataType.Float)
        {
            values = ValuesInput + "/cast";
            var cast = new NodeProto { OpType = "Cast", Name = "sdblazor_embedding_cast" };
            cast.Input.Add(ValuesInput);
            cast.Output.Add(values);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = elementType });
            graph.Node.Add(cast);
        }
        var where = new NodeProto { OpType = "Where", Name = "sdblazor_embedding_where" };
        where.Input.Add(MaskInput);
        where.Input.Add(values);
        where.Input.Add(embeddings);
        where.Output.Add(injected);
        graph.Node.Add(where);
        // Nodes must stay topologically sorted: move the new nodes right after the Gather.
        var index = graph.Node.IndexOf(gather);
        foreach (var node in graph.Node.Skip(graph.Node.Count - (values == ValuesInput ? 1 : 2)).ToList())
        {
            graph.Node.Remove(node);
            graph.Node.Insert(++index, node);
        }
        return (int)width;
    }

    /// <summary>The table behind a Gather's data input and the element type the Gather outputs.</summary>
    private static (TensorProto, int)? Table(string name, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producers)
    {
        int? outputType = null;
        for (var depth = 0; depth < 4; depth++)
        {
            if (initializers.TryGetValue(name, out var table)) return (table, outputType ?? table.DataType);
            if (!producers.TryGetValue(name, out var node) || node.Input.Count == 0) return null;
            switch (node.OpType)
            {
                case "Cast":
                    outputType ??= (int)node.Attribute.First(a => a.Name == "to").I;
                    break;
                case "DequantizeLinear":
                    outputType ??= (int)TensorProto.Types.DataType.Float;
                    break;
                case "Identity":
                    break;
                default:
                    return null;
            }
            name = node.Input[0];
        }
        return null;
    }

    private static ValueInfoProto Input(string name, int elementType, long lastDim)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "sequence" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = lastDim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }
}
