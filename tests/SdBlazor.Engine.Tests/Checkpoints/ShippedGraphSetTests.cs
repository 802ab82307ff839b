using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The graph sets the app ships (<c>Architectures/</c>) are complete: every tensor a graph keeps outside itself is a
/// manifest weight in <c>weights.bin</c>. The full-size SDXL <c>text_encoder_2</c> once referenced its causal mask in a
/// file torch's exporter wrote beside it (<c>Constant_19_attr__value</c>) that was never shipped, so every full-size
/// SDXL checkpoint failed to load (the tiny fixtures embed the mask, so only the full-size run showed it).
/// </summary>
public sealed class ShippedGraphSetTests
{
    public static TheoryData<string> Sets => new() { "sd15", "sd21", "sdxl" };

    [Theory]
    [MemberData(nameof(Sets))]
    public void Every_external_tensor_of_a_shipped_graph_is_a_manifest_weight(string name)
    {
        var set = GraphSet.Load(Path.Combine(AppContext.BaseDirectory, "Architectures", name));
        foreach (var component in set.Info.Components)
        {
            var manifest = set.Manifests[component];
            var weights = manifest.Tensors.Select(t => t.Initializer).ToHashSet(StringComparer.Ordinal);
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(set.GraphPath(component))).Graph;
            var external = graph.Initializer.Select(t => (Where: $"initializer {t.Name}", Tensor: t))
                .Concat(graph.Node.SelectMany(n => n.Attribute.Where(a => a.T is not null).Select(a => (Where: $"node {n.Name} attribute {a.Name}", Tensor: a.T))))
                .Where(x => x.Tensor.DataLocation == global::Onnx.TensorProto.Types.DataLocation.External);
            foreach (var (where, tensor) in external)
            {
                var location = tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
                Assert.True(location == manifest.WeightsFile && weights.Contains(tensor.Name),
                    $"{name}/{component}: {where} is stored in '{location}', not a manifest weight of {manifest.WeightsFile}");
            }
        }
    }
}
