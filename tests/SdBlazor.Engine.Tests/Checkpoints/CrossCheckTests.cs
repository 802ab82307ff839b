using System.Text.Json.Nodes;
using SdBlazor.Engine.Models.Sources;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The importer against independent facts: the key maps the Python tooling derived on its own
/// (<c>Fixtures/checkpoints/keymaps</c>), and the full-size graph sets the app ships (<c>Architectures/</c>), which
/// the released files' keys and shapes must fit exactly.
/// </summary>
public sealed class CrossCheckTests
{
    [Theory]
    [InlineData("sd15")]
    [InlineData("sd21v")]
    [InlineData("sdxl")]
    public void The_key_map_agrees_with_the_independent_python_map(string arch)
    {
        var theirs = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "keymaps", arch + ".json")))!["components"]!.AsObject();
        var released = TestCheckpoints.ReleasedKeys(arch);
        var map = LdmKeyMap.For(released.Keys);
        var mine = new Dictionary<(string, string), MappedWeight>();
        var weights = new List<MappedWeight>();
        foreach (var key in released.Keys)
        {
            weights.Clear();
            if (map.Map(key, weights) == KeyKind.Weight) foreach (var w in weights) mine[(w.Component, w.Key)] = w;
        }

        var problems = new List<string>();
        var count = 0;
        foreach (var (component, keys) in theirs)
        {
            foreach (var (key, entry) in keys!.AsObject())
            {
                count++;
                if (!mine.TryGetValue((component, key), out var w)) { problems.Add($"{component}:{key} not produced"); continue; }
                var from = entry!["from"]!.GetValue<string>();
                if (w.CheckpointKey != from) problems.Add($"{component}:{key} from {w.CheckpointKey}, theirs {from}");
                if (entry["rows"] is JsonArray rows)
                {
                    var (start, end) = (rows[0]!.GetValue<long>(), rows[1]!.GetValue<long>());
                    if (w.SplitCount == 1 || start / (end - start) != w.SplitIndex) problems.Add($"{component}:{key} rows {start}..{end}, mine block {w.SplitIndex}/{w.SplitCount}");
                }
                else if (w.SplitCount != 1) problems.Add($"{component}:{key} split by me only");
                var transpose = entry["op"]?.GetValue<string>() == "transpose";
                if (transpose != w.Transpose) problems.Add($"{component}:{key} transpose {w.Transpose}, theirs {transpose}");
            }
        }
        Assert.True(count > 1000, "the key map fixture is complete");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
    }

    [Theory]
    [InlineData("sd15", "sd1", "sd15", 4)]
    [InlineData("sd21v", "sd2", "sd21", 4)]
    [InlineData("sdxl", "sdxl", "sdxl", 4)]
    // runwayml's sd-v1-5-inpainting: SD 1.5's keys with a 9-channel UNet input convolution.
    [InlineData("sd15", "sd1", "sd15-inpainting", 9)]
    public void The_released_layouts_fit_the_shipped_full_size_graph_sets(string arch, string family, string graphSet, int inChannels)
    {
        var sets = GraphSet.LoadAll(Path.Combine(AppContext.BaseDirectory, "Architectures"));
        var offset = 0L;
        var tensors = TestCheckpoints.ReleasedKeys(arch).ToDictionary(
            k => k.Key,
            k =>
            {
                SafetensorsDTypes.TryParse(k.Value.DType, out var dtype);
                var shape = k.Key == "model.diffusion_model.input_blocks.0.0.weight" ? [k.Value.Shape[0], inChannels, k.Value.Shape[2], k.Value.Shape[3]] : k.Value.Shape;
                var length = shape.Aggregate(1L, (a, d) => a * d) * dtype.Size();
                var tensor = new SafetensorsTensor(k.Key, dtype, shape, offset, length);
                offset += length;
                return tensor;
            });
        var layout = CheckpointInspector.Inspect(arch, "/nowhere/" + arch + ".safetensors", tensors, new Dictionary<string, string>(), sets);
        Assert.Equal((family, graphSet), (layout.Family, layout.GraphSet.Name));
        // Every released weight is used except what SD 2.x carries beyond the diffusers model.
        if (arch != "sd21v") Assert.Empty(layout.UnusedKeys);
        else Assert.All(layout.UnusedKeys, k => Assert.True(k.Contains("resblocks.23.") || k.EndsWith("text_projection", StringComparison.Ordinal), k));
        Assert.Equal(arch == "sd21v" ? PredictionType.Unknown : PredictionType.Epsilon, layout.Prediction);
    }
}
