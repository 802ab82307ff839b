using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>Where a conversion is: a phase name for people (<c>"Converting unet"</c>) and how far into it.</summary>
public readonly record struct ConversionProgress(string Phase, int Done, int Total);

/// <summary>
/// Turns a single-file checkpoint into a diffusers-ONNX model folder the engine loads like any other: per component of
/// the matched graph set the graph is copied and its <c>weights.bin</c> written from the checkpoint, tensor by tensor
/// (widened to fp32, or for GPU providers kept fp16 in the text encoders and UNet: <see cref="CheckpointPrecision"/>; row block picked, transposed where the graph stores the weight transposed), at the offsets the
/// manifest fixes; then tokenizer, scheduler config and the small configs. Peak managed memory is one tensor (twice
/// when it is transposed), never the checkpoint.
/// </summary>
public static class CheckpointConverter
{
    public static void Convert(SafetensorsFile file, CheckpointLayout layout, ModelDataFiles data, string folder,
        IProgress<ConversionProgress>? progress, CancellationToken cancellationToken, WeightPrecision precision = WeightPrecision.Float32)
    {
        Directory.CreateDirectory(folder);
        var set = layout.GraphSet;
        var buffer = Array.Empty<float>();
        var scratch = Array.Empty<float>();
        var halves = Array.Empty<Half>();
        foreach (var component in set.Info.Components)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var manifest = set.Manifests[component];
            var target = Path.Combine(folder, component);
            Directory.CreateDirectory(target);
            var half = precision == WeightPrecision.Float16 && CheckpointPrecision.Float16Components.Contains(component);
            if (half)
            {
                manifest = Float16Graph.HalfManifest(manifest);
                var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(set.GraphPath(component)));
                Float16Graph.Convert(graph, manifest, CheckpointPrecision.Float32Inputs);
                File.WriteAllBytes(Path.Combine(target, "model.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(graph));
            }
            else
            {
                File.Copy(set.GraphPath(component), Path.Combine(target, "model.onnx"), overwrite: true);
            }
            var phase = $"Converting {component}";
            progress?.Report(new ConversionProgress(phase, 0, manifest.Tensors.Count));
            using var handle = File.OpenHandle(Path.Combine(target, manifest.WeightsFile), FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None, manifest.TotalBytes);
            RandomAccess.SetLength(handle, manifest.TotalBytes);
            var done = 0;
            foreach (var tensor in manifest.Tensors.OrderBy(t => t.Offset))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (weight, source) = layout.Weights[(component, tensor.Key)];
                var count = (int)(tensor.Length / (half ? 2 : sizeof(float)));
                if (buffer.Length < count) buffer = new float[count];
                var slice = buffer.AsSpan(0, count);
                file.ReadFloat32(source, (long)weight.SplitIndex * count, slice);
                // The checkpoint's rows (after the q/k/v split) are transposed when exactly one of "the diffusers weight is
                // the checkpoint's transpose" and "the graph stores the diffusers weight transposed" holds.
                if (weight.Transpose != (tensor.Transform == "transpose"))
                {
                    if (scratch.Length < count) scratch = new float[count];
                    // The initializer is [x, y]; the rows read from the checkpoint are [y, x].
                    var rows = (int)tensor.Shape[1];
                    Transpose(slice, rows, count / rows, scratch.AsSpan(0, count));
                    scratch.AsSpan(0, count).CopyTo(slice);
                }
                if (half)
                {
                    // An fp16 checkpoint's values come back exactly (fp16 → fp32 → fp16 is lossless).
                    if (halves.Length < count) halves = new Half[count];
                    for (var i = 0; i < count; i++) halves[i] = (Half)slice[i];
                    RandomAccess.Write(handle, MemoryMarshal.AsBytes(halves.AsSpan(0, count)), tensor.Offset);
                }
                else
                {
                    RandomAccess.Write(handle, MemoryMarshal.AsBytes(slice), tensor.Offset);
                }
                if (++done % 64 == 0) progress?.Report(new ConversionProgress(phase, done, manifest.Tensors.Count));
            }
            progress?.Report(new ConversionProgress(phase, done, manifest.Tensors.Count));
        }

        WriteFolderFiles(layout, data, folder, precision);
    }

    /// <summary><paramref name="source"/> is [rows, columns] row-major; <paramref name="destination"/> becomes [columns, rows].</summary>
    private static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = source.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++) destination[c * rows + r] = row[c];
        }
    }

    /// <summary>model_index.json, tokenizer(s), scheduler config and the small per-component configs the engine reads.</summary>
    public static void WriteFolderFiles(CheckpointLayout layout, ModelDataFiles data, string folder, WeightPrecision precision = WeightPrecision.Float32)
    {
        var set = layout.GraphSet;
        var index = new JsonObject
        {
            ["_class_name"] = layout.Family switch
            {
                CheckpointFamily.Sdxl => "ORTStableDiffusionXLPipeline",
                CheckpointFamily.SdxlRefiner => "ORTStableDiffusionXLImg2ImgPipeline",
                _ => "OnnxStableDiffusionPipeline",
            },
            ["_diffusers_version"] = "0.30.0",
            ["_sdblazor_source"] = "single-file checkpoint",
            ["_sdblazor_graph_set"] = set.Name,
            ["_sdblazor_prediction_source"] = layout.PredictionSource,
            // Which components hold fp16 weights.bin (their layout is Float16Graph.HalfManifest of the graph set's); LoRA merging reads it.
            ["_sdblazor_float16"] = new JsonArray([.. set.Info.Components.Where(c => precision == WeightPrecision.Float16 && CheckpointPrecision.Float16Components.Contains(c)).Select(c => JsonValue.Create(c))]),
            ["scheduler"] = new JsonArray("diffusers", SchedulerClass(data.SchedulerConfig(layout.Family, layout.Prediction))),
        };
        foreach (var encoder in set.Info.TextEncoders)
        {
            // Each tokenizer is named after its encoder: text_encoder_2 (the refiner's only one too) gets tokenizer_2.
            var suffix = encoder.Component.StartsWith("text_encoder", StringComparison.Ordinal) ? encoder.Component["text_encoder".Length..] : "";
            data.WriteTokenizer(Path.Combine(folder, "tokenizer" + suffix), encoder.PadWith == "zero");
            index["tokenizer" + suffix] = new JsonArray("transformers", "CLIPTokenizer");
        }
        foreach (var component in set.Info.Components) index[component] = new JsonArray("diffusers", "OnnxRuntimeModel");
        File.WriteAllText(Path.Combine(folder, "model_index.json"), index.ToJsonString(ModelDataFiles.Indented));

        Directory.CreateDirectory(Path.Combine(folder, "scheduler"));
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"), data.SchedulerConfig(layout.Family, layout.Prediction));
        if (set.Info.Components.Contains("unet"))
            File.WriteAllText(Path.Combine(folder, "unet", "config.json"), new JsonObject { ["sample_size"] = set.Info.SampleSize }.ToJsonString(ModelDataFiles.Indented));
        foreach (var vae in (string[])["vae_decoder", "vae_encoder"])
        {
            if (!set.Info.Components.Contains(vae)) continue;
            File.WriteAllText(Path.Combine(folder, vae, "config.json"),
                new JsonObject { ["scaling_factor"] = set.Info.VaeScaleFactor, ["sample_size"] = set.Info.SampleSize * ModelFolder.VaeScale }.ToJsonString(ModelDataFiles.Indented));
        }
    }

    /// <summary>The components of a converted folder whose <c>weights.bin</c> is fp16 (none for folders made before fp16 existed).</summary>
    public static IReadOnlySet<string> Float16ComponentsOf(string folder)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            if (JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "model_index.json")))?["_sdblazor_float16"] is JsonArray list)
                foreach (var item in list)
                    if (item?.GetValue<string>() is { } name) set.Add(name);
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            // No index or an unreadable one: the fp32 layout, as every folder written before fp16 conversion.
        }
        return set;
    }

    private static string SchedulerClass(string json) => JsonNode.Parse(json)?["_class_name"]?.GetValue<string>() ?? "PNDMScheduler";
}
