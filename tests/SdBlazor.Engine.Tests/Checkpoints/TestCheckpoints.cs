using System.Text.Json.Nodes;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// Random-weight single-file checkpoints in the released files' key layout (the key lists of
/// <c>Checkpoints/Data/checkpoint-keys/</c>) for a graph set's sizes: every released key whose weights the graph set
/// needs gets the shape the manifest implies (fused q/k/v three times as tall, OpenCLIP's projection transposed, the
/// VAE attention's 1×1 kernels); buffers and EMA keys can be added as real files carry them.
/// </summary>
public static class TestCheckpoints
{
    public static string DataPath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Checkpoints", "Data", .. parts]);

    public static string GraphSetPath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "architectures", name);

    /// <summary>Key → (shape, dtype) of a released checkpoint (<c>sd15</c>, <c>sd21v</c>, <c>sdxl</c>).</summary>
    public static IReadOnlyDictionary<string, (long[] Shape, string DType)> ReleasedKeys(string arch)
    {
        var root = JsonNode.Parse(File.ReadAllText(DataPath("checkpoint-keys", arch + ".json")))!;
        return root["tensors"]!.AsObject().ToDictionary(
            p => p.Key,
            p => (p.Value!["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray(), p.Value!["dtype"]!.GetValue<string>()));
    }

    public sealed record Options(string DType = "F32", bool Buffers = true, bool PositionIds = true, bool Ema = false, int Seed = 1)
    {
        /// <summary>Overrides values of single checkpoint keys (e.g. the UNet's output bias for the v-prediction test).</summary>
        public Func<string, float[], float[]>? Edit { get; init; }
    }

    public static List<TestTensor> ForGraphSet(GraphSet set, string releasedArch, Options? options = null)
    {
        options ??= new Options();
        var released = WithShortcuts(ReleasedKeys(releasedArch));
        var map = LdmKeyMap.For(released.Keys);
        var manifest = set.Manifests.SelectMany(m => m.Value.Tensors.Select(t => (m.Key, t))).ToDictionary(x => (x.Key, x.t.Key), x => x.t);
        var random = new Random(options.Seed);
        var tensors = new List<TestTensor>();
        var mapped = new List<MappedWeight>();
        foreach (var (key, (realShape, realDType)) in released.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            mapped.Clear();
            var kind = map.Map(key, mapped);
            if (kind == KeyKind.Ignored)
            {
                var isEma = key.StartsWith("model_ema.", StringComparison.Ordinal);
                var isPosition = key.EndsWith("position_ids", StringComparison.Ordinal);
                if (isEma && !options.Ema || isPosition && !options.PositionIds || !isEma && !isPosition && !options.Buffers) continue;
                if (realDType is "I64" or "I32")
                {
                    var count = realShape.Aggregate(1L, (a, d) => a * d);
                    var size = realDType == "I64" ? 8 : 4;
                    tensors.Add(new TestTensor(key, realDType, realShape, Raw: new byte[count * size]));
                }
                else if (!isEma || realShape.Aggregate(1L, (a, d) => a * d) <= 4096)
                {
                    tensors.Add(new TestTensor(key, options.DType, realShape, Values: Values(random, realShape.Aggregate(1L, (a, d) => a * d))));
                }
                continue;
            }
            if (kind != KeyKind.Weight || !mapped.All(w => manifest.ContainsKey((w.Component, w.Key)))) continue;
            var first = mapped[0];
            var keyShape = manifest[(first.Component, first.Key)].KeyShape;
            var shape = (long[])keyShape.Clone();
            if (first.Transpose) Array.Reverse(shape);
            if (first.SplitCount > 1) shape[0] *= first.SplitCount;
            if (realShape.Length == 4 && shape.Length == 2) shape = [shape[0], shape[1], 1, 1];
            // Graphs may hold a vector reshaped for broadcasting ([C, 1, 1]); checkpoints store it as [C].
            if (realShape.Length == 1 && shape.Length > 1) shape = [shape.Aggregate(1L, (a, d) => a * d)];
            var values = Values(random, shape.Aggregate(1L, (a, d) => a * d));
            if (options.Edit is { } edit) values = edit(key, values);
            tensors.Add(new TestTensor(key, options.DType, shape, values));
        }
        return tensors;
    }

    /// <summary>
    /// Reduced widths move the 1×1 shortcut convolutions (a resnet has one where its channel count changes), so a
    /// reduced checkpoint may need shortcut keys the released file has elsewhere: every resnet gets candidates,
    /// used only where the graph set has that weight.
    /// </summary>
    private static Dictionary<string, (long[] Shape, string DType)> WithShortcuts(IReadOnlyDictionary<string, (long[] Shape, string DType)> released)
    {
        var result = released.ToDictionary(k => k.Key, k => k.Value);
        foreach (var key in released.Keys)
        {
            string? prefix = null, name = null;
            if (key.EndsWith(".in_layers.0.weight", StringComparison.Ordinal)) (prefix, name) = (key[..^"in_layers.0.weight".Length], "skip_connection");
            else if (key.StartsWith("first_stage_model.", StringComparison.Ordinal) && key.EndsWith(".norm1.weight", StringComparison.Ordinal)) (prefix, name) = (key[..^"norm1.weight".Length], "nin_shortcut");
            if (prefix is null) continue;
            foreach (var suffix in (string[])[".weight", ".bias"])
                result.TryAdd(prefix + name + suffix, ([], "F32"));
        }
        return result;
    }

    /// <summary>
    /// What each graph initializer must hold after conversion, worked out here element by element from the written
    /// tensors: the q/k/v row block, OpenCLIP's transposed projection, then the graph's own transpose.
    /// </summary>
    public static Dictionary<(string Component, string Initializer), float[]> ExpectedInitializers(GraphSet set, string releasedArch, IReadOnlyList<TestTensor> written)
    {
        var byKey = written.ToDictionary(t => t.Name);
        var map = LdmKeyMap.For(byKey.Keys);
        var sources = new Dictionary<(string, string), (MappedWeight, TestTensor)>();
        var mapped = new List<MappedWeight>();
        foreach (var t in written)
        {
            mapped.Clear();
            if (map.Map(t.Name, mapped) == KeyKind.Weight) foreach (var w in mapped) sources[(w.Component, w.Key)] = (w, t);
        }
        var result = new Dictionary<(string, string), float[]>();
        foreach (var (component, manifest) in set.Manifests)
        {
            foreach (var init in manifest.Tensors)
            {
                var (weight, tensor) = sources[(component, init.Key)];
                var stored = tensor.Stored();
                var rows = tensor.Shape[0] / weight.SplitCount;
                var perRow = tensor.Shape.Length == 1 ? 1 : stored.Length / tensor.Shape[0];
                var block = stored.Skip((int)(weight.SplitIndex * rows * perRow)).Take((int)(rows * perRow)).ToArray();
                // diffusers value D: [r, c] (block as is, or its transpose for OpenCLIP's projection)
                var d = weight.Transpose ? Transposed(block, (int)rows, (int)perRow) : block;
                var dRows = weight.Transpose ? perRow : rows;
                result[(component, init.Initializer)] = init.Transform == "transpose" ? Transposed(d, (int)dRows, d.Length / (int)dRows) : d;
            }
        }
        return result;
    }

    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
                result[c * rows + r] = values[r * columns + c];
        return result;
    }

    private static float[] Values(Random random, long count)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 0.2 - 0.1);
        return values;
    }
}
