using System.Text.Json;
using System.Text.Json.Nodes;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// Files the app ships for models made from checkpoints (<c>ModelData/</c> beside the app): the CLIP BPE vocabulary
/// (openai/CLIP, MIT — its <c>LICENSE</c> travels with it) and the scheduler configs of the original diffusers
/// repositories. Tokenizer configs are written here because they differ only in the pad token: CLIP ViT-L pads with
/// <c>&lt;|endoftext|&gt;</c>, OpenCLIP with <c>!</c> (id 0), as the SD 2.x and SDXL repositories' tokenizers do.
/// </summary>
public sealed class ModelDataFiles(string root)
{
    // Relaxed escaping keeps "<|endoftext|>" readable in the written files.
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Root { get; } = root;

    public static ModelDataFiles Default() => new(Path.Combine(AppContext.BaseDirectory, "ModelData"));

    public string SchedulerConfig(string family, PredictionType prediction)
    {
        var file = family switch
        {
            CheckpointFamily.Sd2 => prediction == PredictionType.V ? "sd21-v.json" : "sd21-base.json",
            CheckpointFamily.Sdxl or CheckpointFamily.SdxlRefiner => "sdxl-base.json",
            _ => "sd15.json",
        };
        var json = File.ReadAllText(Path.Combine(Root, "schedulers", file));
        // SD 1.x and SDXL fine-tunes trained for v (their metadata says so) keep their repository's sampler, predicting v.
        if (prediction == PredictionType.V && family != CheckpointFamily.Sd2)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            node["prediction_type"] = "v_prediction";
            json = node.ToJsonString(Indented);
        }
        return json;
    }

    public void WriteTokenizer(string folder, bool padWithZero)
    {
        Directory.CreateDirectory(folder);
        foreach (var name in (string[])["vocab.json", "merges.txt", "LICENSE"])
            File.Copy(Path.Combine(Root, "clip-bpe", name), Path.Combine(folder, name), overwrite: true);
        var pad = padWithZero ? "!" : "<|endoftext|>";
        JsonObject Token(string content) => new()
        {
            ["content"] = content, ["lstrip"] = false, ["normalized"] = true, ["rstrip"] = false, ["single_word"] = false,
        };
        var special = new JsonObject
        {
            ["bos_token"] = Token("<|startoftext|>"), ["eos_token"] = Token("<|endoftext|>"), ["pad_token"] = pad, ["unk_token"] = Token("<|endoftext|>"),
        };
        var config = new JsonObject
        {
            ["add_prefix_space"] = false, ["bos_token"] = Token("<|startoftext|>"), ["do_lower_case"] = true, ["eos_token"] = Token("<|endoftext|>"),
            ["errors"] = "replace", ["model_max_length"] = 77, ["pad_token"] = pad, ["tokenizer_class"] = "CLIPTokenizer", ["unk_token"] = Token("<|endoftext|>"),
        };
        File.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), special.ToJsonString(Indented));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(Indented));
    }
}
