using Onnx;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Adds clip-skip outputs to a CLIP text encoder graph, so one run gives A1111's <c>CLIP_stop_at_last_layers</c>
/// results: for N = 2…L, <c>final_layer_norm(hidden_states[-N])</c> as output <see cref="OutputName"/>(N).
/// </summary>
/// <remarks>
/// Exports (diffusers/optimum, our own tools) only output <c>last_hidden_state</c>. The residual stream between encoder
/// layers is found from the layer norms: every CLIP layer normalises its input (<c>layer_norm1</c>) and its middle
/// (<c>layer_norm2</c>), and the final norm takes the last layer's output, so in graph order the inputs of the 2L + 1
/// layer norms are hidden_states[0], mid, hidden_states[1], …, hidden_states[L]. A layer norm is a
/// <c>LayerNormalization</c> node (opset 17) or the decomposed pattern older exports emit (<c>ReduceMean(X)</c> feeding
/// <c>Sub(X, ·)</c>). The nodes between hidden_states[L] and <c>last_hidden_state</c> (the final layer norm, however it
/// is spelled) are copied once per N with hidden_states[L+1-N] as their input, sharing the norm's weights.
/// </remarks>
public static class ClipSkipGraph
{
    public static string OutputName(int clipSkip) => $"last_hidden_state_clip_skip_{clipSkip}";

    /// <summary>Edits <paramref name="model"/> in place.</summary>
    /// <returns>The layer count L (outputs exist for 2…L).</returns>
    /// <exception cref="NotSupportedException">The graph's layer norms do not show a CLIP encoder's structure.</exception>
    public static int AddOutputs(ModelProto model, string lastHiddenStateName)
    {
        var graph = model.Graph;
        var lnInputs = LayerNormInputs(graph);
        if (lnInputs.Count < 3 || lnInputs.Count % 2 == 0)
            throw new NotSupportedException($"text_encoder: found {lnInputs.Count} layer norms; a CLIP encoder has 2 per layer plus a final one, so clip skip cannot be added.");
        var layers = (lnInputs.Count - 1) / 2;
        var finalInput = lnInputs[^1];

        var finalNorm = NodesBetween(graph, finalInput, lastHiddenStateName);
        if (finalNorm.Count == 0)
            throw new NotSupportedException($"text_encoder: '{lastHiddenStateName}' does not follow from the last layer's output, so clip skip cannot be added.");
        var outputInfo = graph.Output.First(o => o.Name == lastHiddenStateName);

        for (var skip = 2; skip <= layers; skip++)
        {
            var source = lnInputs[2 * (layers + 1 - skip)];
            var suffix = $"/clip_skip_{skip}";
            var renamed = new Dictionary<string, string> { [finalInput] = source };
            foreach (var node in finalNorm)
            {
                var copy = node.Clone();
                copy.Name = node.Name + suffix;
                for (var k = 0; k < copy.Input.Count; k++)
                    if (renamed.TryGetValue(copy.Input[k], out var input)) copy.Input[k] = input;
                for (var k = 0; k < copy.Output.Count; k++)
                {
                    if (copy.Output[k].Length == 0) continue;
                    var name = copy.Output[k] == lastHiddenStateName ? OutputName(skip) : copy.Output[k] + suffix;
                    renamed[copy.Output[k]] = name;
                    copy.Output[k] = name;
                }
                graph.Node.Add(copy);
            }
            var info = outputInfo.Clone();
            info.Name = OutputName(skip);
            graph.Output.Add(info);
        }
        return layers;
    }

    /// <summary>Inputs of the layer norms, in graph (topological) order.</summary>
    internal static List<string> LayerNormInputs(GraphProto graph)
    {
        var subInputs = new Dictionary<string, List<NodeProto>>();
        foreach (var node in graph.Node.Where(n => n.OpType == "Sub" && n.Input.Count == 2))
        {
            if (!subInputs.TryGetValue(node.Input[1], out var list)) subInputs[node.Input[1]] = list = [];
            list.Add(node);
        }
        var result = new List<string>();
        foreach (var node in graph.Node)
        {
            string? x = null;
            if (node.OpType is "LayerNormalization" && node.Input.Count > 0) x = node.Input[0];
            else if (node.OpType == "ReduceMean" && node.Input.Count > 0 && node.Output.Count > 0
                && subInputs.TryGetValue(node.Output[0], out var subs) && subs.Any(s => s.Input[0] == node.Input[0]))
                x = node.Input[0];
            if (x is not null && (result.Count == 0 || result[^1] != x)) result.Add(x);
        }
        return result;
    }

    /// <summary>Nodes on a path from value <paramref name="from"/> to value <paramref name="to"/>, in graph order.</summary>
    private static List<NodeProto> NodesBetween(GraphProto graph, string from, string to)
    {
        var descendants = new HashSet<string> { from };
        var forward = new HashSet<NodeProto>();
        foreach (var node in graph.Node)
        {
            if (!node.Input.Any(descendants.Contains)) continue;
            forward.Add(node);
            foreach (var output in node.Output) descendants.Add(output);
        }
        var needed = new HashSet<string> { to };
        var result = new List<NodeProto>();
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!forward.Contains(node) || !node.Output.Any(needed.Contains)) continue;
            result.Add(node);
            foreach (var input in node.Input) needed.Add(input);
        }
        result.Reverse();
        return result;
    }
}
