using Onnx;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The shipped weight-free graphs point at no file but their own weights.bin: the importer writes only that file, so
/// any other external data (the full SDXL bigG graph once kept CLIP's causal mask in a scratch file of its lazy export)
/// makes every converted full-size model fail to load — invisible to the tiny fixtures, found by the real-scale bench.
/// </summary>
public sealed class ShippedGraphSetTests
{
    public static TheoryData<string> Graphs()
    {
        var data = new TheoryData<string>();
        var root = Path.Combine(AppContext.BaseDirectory, "Architectures");
        foreach (var file in Directory.GetFiles(root, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(root, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Every_external_tensor_of_a_shipped_graph_lives_in_its_weights_bin(string graph)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Architectures", graph)));
        var tensors = model.Graph.Initializer
            .Concat(model.Graph.Node.SelectMany(n => n.Attribute).Where(a => a.T is not null).Select(a => a.T))
            .Concat(model.Graph.Node.SelectMany(n => n.Attribute).SelectMany(a => a.Tensors));
        var elsewhere = tensors
            .Select(t => (t.Name, Location: t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value))
            .Where(t => t.Location is not null && t.Location != "weights.bin")
            .Select(t => $"{t.Name} → {t.Location}").ToList();
        Assert.True(elsewhere.Count == 0, $"{graph}: external data outside weights.bin: {string.Join(", ", elsewhere)}");
    }
}
