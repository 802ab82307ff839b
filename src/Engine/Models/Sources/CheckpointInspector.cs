using System.Text.RegularExpressions;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// Tells from a checkpoint's keys and shapes what it is, as A1111's <c>sd_models_config.py</c> does: SDXL base
/// (<c>conditioner.embedders.0/1</c>), SD 2.x (OpenCLIP under <c>cond_stage_model.model</c>), SD 1.x (CLIP under
/// <c>cond_stage_model.transformer</c>); then maps every key to its diffusers name and picks the shipped graph set whose
/// every manifest weight is present with the same shape. Anything else gets an error saying what the file looks like
/// (a LoRA, a VAE, an embedding, a diffusers component, a pix2pix model, or which unknown keys it has). Inpainting
/// checkpoints (9 UNet input channels) import into an inpainting graph set such as <c>sd15-inpainting</c>.
/// </summary>
public static partial class CheckpointInspector
{
    public static CheckpointLayout Inspect(string modelName, string checkpointPath,
        IReadOnlyDictionary<string, SafetensorsTensor> tensors, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<GraphSet> graphSets)
    {
        var family = DetectFamily(modelName, tensors);

        var map = LdmKeyMap.For(tensors.Keys);
        var weights = new Dictionary<(string, string), (MappedWeight, SafetensorsTensor)>();
        var unknown = new List<string>();
        var mapped = new List<MappedWeight>();
        foreach (var (key, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            mapped.Clear();
            switch (map.Map(key, mapped))
            {
                case KeyKind.Weight:
                    if (!tensor.DType.IsFloat())
                        throw new CheckpointException(modelName, $"weight '{key}' is {tensor.DType.Name()}, not a floating-point type.");
                    foreach (var weight in mapped) weights[(weight.Component, weight.Key)] = (weight, tensor);
                    break;
                case KeyKind.Unknown:
                    unknown.Add(key);
                    break;
            }
        }

        var candidates = graphSets.Where(g => g.Info.Family == family).ToList();
        if (candidates.Count == 0)
            throw new CheckpointException(modelName, $"an {CheckpointFamily.Display(family)} checkpoint, but no graph set for {CheckpointFamily.Display(family)} is installed (found: {Names(graphSets)}).");
        string? bestProblem = null;
        var bestMissing = int.MaxValue;
        foreach (var set in candidates)
        {
            var (missing, problem) = Match(set, weights);
            if (missing == 0)
            {
                var used = set.Manifests.SelectMany(m => m.Value.Tensors.Select(t => (m.Key, t.Key))).ToHashSet();
                var unused = weights.Where(w => !used.Contains(w.Key)).Select(w => w.Value.Item1.CheckpointKey).Distinct().Order(StringComparer.Ordinal).ToList();
                var (prediction, source) = PredictionFromFiles(checkpointPath, metadata, family, set);
                return new CheckpointLayout(modelName, family, prediction, source, set, weights, unknown.Concat(unused).ToList());
            }
            if (missing < bestMissing) (bestMissing, bestProblem) = (missing, $"graph set '{set.Name}': {problem}");
        }
        if (UNetInputChannels(tensors) == 9)
            throw new CheckpointException(modelName, $"an {CheckpointFamily.Display(family)} inpainting model (its UNet takes 9 input channels), but no installed graph set fits it ({bestProblem}); inpainting graph sets: {Names(graphSets.Where(g => g.Name.Contains("inpainting", StringComparison.Ordinal)).ToList())}.");
        var unknownNote = unknown.Count > 0 ? $" Unknown keys like {Sample(unknown)}." : "";
        throw new CheckpointException(modelName, $"an {CheckpointFamily.Display(family)} checkpoint whose weights fit no shipped graph set ({bestProblem}).{unknownNote}");
    }

    private static (int Missing, string Problem) Match(GraphSet set, Dictionary<(string, string), (MappedWeight Weight, SafetensorsTensor Tensor)> weights)
    {
        var missing = new List<string>();
        var shapes = new List<string>();
        foreach (var (component, manifest) in set.Manifests)
        {
            foreach (var tensor in manifest.Tensors)
            {
                if (!weights.TryGetValue((component, tensor.Key), out var found)) missing.Add($"{component}:{tensor.Key}");
                else
                {
                    var have = found.Weight.ShapeOf(found.Tensor.Shape);
                    if (!SameShape(have, tensor.KeyShape))
                        shapes.Add($"{found.Weight.CheckpointKey} is [{string.Join(", ", have)}], the graph needs [{string.Join(", ", tensor.KeyShape)}]");
                }
            }
        }
        var count = missing.Count + shapes.Count;
        var problem = missing.Count > 0
            ? $"{missing.Count} weight(s) missing, like {Sample(missing)}" + (shapes.Count > 0 ? $"; {shapes.Count} of another shape, like {shapes[0]}" : "")
            : shapes.Count > 0 ? $"{shapes.Count} weight(s) of another shape, like {shapes[0]}" : "";
        return (count, problem);
    }

    /// <summary>
    /// Equal after dropping size-1 dimensions: a 1×1 convolution kernel standing for a Linear weight, and the exporter's
    /// constant folding stores some vectors reshaped for broadcasting (a GroupNorm scale [C] as [C, 1, 1]); the bytes are the same.
    /// </summary>
    private static bool SameShape(long[] a, long[] b) => a.Where(d => d != 1).SequenceEqual(b.Where(d => d != 1));

    public static string DetectFamily(string modelName, IReadOnlyDictionary<string, SafetensorsTensor> tensors)
    {
        var keys = tensors.Keys;
        bool Any(string prefix) => keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        var hasUNet = Any("model.diffusion_model.");

        if (!hasUNet)
        {
            if (keys.Any(k => k.StartsWith("lora_", StringComparison.Ordinal) || k.Contains(".lora_down.") || k.Contains(".lora_up.")
                              || k.Contains(".lora_A.") || k.Contains(".lora.down.") || k.Contains("hada_w1") || k.Contains("lokr_w1")))
                throw new CheckpointException(modelName, "this is a LoRA/LyCORIS file (LoRA keys, no UNet), not a checkpoint; it does not belong in the models folder.");
            if (tensors.Count <= 4 && keys.Any(k => k is "emb_params" or "clip_l" or "clip_g" || k.StartsWith("string_to_param", StringComparison.Ordinal)))
                throw new CheckpointException(modelName, "this is a textual-inversion embedding, not a checkpoint; it does not belong in the models folder.");
            if (keys.Any(k => k.StartsWith("encoder.", StringComparison.Ordinal) || k.StartsWith("decoder.", StringComparison.Ordinal) || k.StartsWith("first_stage_model.", StringComparison.Ordinal))
                && keys.All(k => !k.StartsWith("cond_stage_model.", StringComparison.Ordinal)))
                throw new CheckpointException(modelName, "this is a VAE only (encoder/decoder keys, no UNet or text encoder), not a full checkpoint.");
            if (keys.Any(k => k.StartsWith("down_blocks.", StringComparison.Ordinal) || k.StartsWith("text_model.", StringComparison.Ordinal)))
                throw new CheckpointException(modelName, "this is one diffusers component (diffusers key names such as 'down_blocks.…'), not a single-file checkpoint; put a whole diffusers-ONNX model folder in the models folder instead.");
            throw new CheckpointException(modelName, $"unknown layout: {tensors.Count} tensors and no Stable Diffusion UNet ('model.diffusion_model.…'); keys like {Sample(keys.Order(StringComparer.Ordinal))}.");
        }

        // 9 input channels: an inpainting model (latents ++ mask ++ masked-image latents); its graph set is chosen by that weight's shape below.
        if (UNetInputChannels(tensors) is { } channels and not (4 or 9))
        {
            var what = channels == 8 ? "an instruct-pix2pix model" : "a model";
            throw new CheckpointException(modelName, $"{what} (its UNet takes {channels} input channels); only text-to-image models (4 channels) and inpainting models (9) are supported so far.");
        }

        if (Any("conditioner.embedders.1.model.") && Any("conditioner.embedders.0.transformer."))
            return CheckpointFamily.Sdxl;
        if (Any("conditioner.embedders.0.model."))
            return CheckpointFamily.SdxlRefiner;
        if (Any("cond_stage_model.model.transformer.resblocks."))
            return CheckpointFamily.Sd2;
        if (Any("cond_stage_model.transformer."))
            return CheckpointFamily.Sd1;
        throw new CheckpointException(modelName, $"a UNet without a known text encoder (none of 'cond_stage_model.transformer.', 'cond_stage_model.model.', 'conditioner.embedders.'); keys like {Sample(keys.Where(k => !k.StartsWith("model.diffusion_model.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))}.");
    }

    /// <summary>The UNet's input channels from its first convolution (A1111's test for inpainting models); null when absent.</summary>
    public static int? UNetInputChannels(IReadOnlyDictionary<string, SafetensorsTensor> tensors) =>
        tensors.TryGetValue("model.diffusion_model.input_blocks.0.0.weight", out var convIn) && convIn.Shape.Length == 4 ? (int)convIn.Shape[1] : null;

    /// <summary>
    /// What the file itself says about its prediction type: a sidecar <c>NAME.yaml</c> (A1111 reads the config next to
    /// the checkpoint first: <c>parameterization: "v"</c> means v, a config without it epsilon), then the header's
    /// metadata (<c>modelspec.prediction_type</c>, kohya's <c>ss_v_parameterization</c>, <c>prediction_type</c>).
    /// Otherwise SD 1.x and SDXL are epsilon and SD 2.x is <see cref="PredictionType.Unknown"/>: the converter then
    /// applies A1111's test (<see cref="VPredictionProbe"/>).
    /// </summary>
    public static (PredictionType, string) PredictionFromFiles(string checkpointPath, IReadOnlyDictionary<string, string> metadata, string family, GraphSet set)
    {
        var yaml = Path.ChangeExtension(checkpointPath, ".yaml");
        if (File.Exists(yaml))
        {
            var text = File.ReadAllText(yaml);
            var m = ParameterizationLine().Match(text);
            return m.Success && m.Groups[1].Value == "v"
                ? (PredictionType.V, $"{Path.GetFileName(yaml)} says parameterization: v")
                : (PredictionType.Epsilon, $"{Path.GetFileName(yaml)} has no v parameterization");
        }
        foreach (var key in (string[])["modelspec.prediction_type", "prediction_type"])
        {
            if (!metadata.TryGetValue(key, out var value)) continue;
            var v = value.Trim().Trim('"').ToLowerInvariant();
            if (v is "v" or "v_prediction" or "v-prediction") return (PredictionType.V, $"metadata {key} = {value}");
            if (v is "epsilon" or "eps") return (PredictionType.Epsilon, $"metadata {key} = {value}");
        }
        if (metadata.TryGetValue("ss_v_parameterization", out var kohya) && bool.TryParse(kohya.Trim('"'), out var isV))
            return (isV ? PredictionType.V : PredictionType.Epsilon, $"metadata ss_v_parameterization = {kohya}");
        if (family == CheckpointFamily.Sd2) return (PredictionType.Unknown, "");
        return set.Info.PredictionType is "v_prediction" or "v"
            ? (PredictionType.V, $"graph set {set.Name}")
            : (PredictionType.Epsilon, $"{CheckpointFamily.Display(family)} default");
    }

    [GeneratedRegex(@"^\s*parameterization:\s*[""']?(\w+)[""']?\s*$", RegexOptions.Multiline)]
    private static partial Regex ParameterizationLine();

    private static string Sample(IEnumerable<string> keys) => string.Join(", ", keys.Take(3).Select(k => $"'{k}'"));

    private static string Names(IReadOnlyList<GraphSet> sets) => sets.Count == 0 ? "none" : string.Join(", ", sets.Select(s => s.Name));
}
