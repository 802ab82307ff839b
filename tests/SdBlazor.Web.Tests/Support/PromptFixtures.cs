using System.Text.Json;
using SdBlazor.Engine.Tests.Checkpoints;
using SdBlazor.Web.Tests.Api;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// A models folder of its own for prompt-tool tests: the default model (a link), a <c>Lora</c> and an
/// <c>embeddings</c> folder with real safetensors files (headers as kohya and A1111 write them, zero weights).
/// </summary>
public sealed class PromptFixtures : IDisposable
{
    public PromptFixtures()
    {
        Root = AppFactory.NewDataFolder();
        ModelsPath = Directory.CreateDirectory(Path.Combine(Root, "models")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(ModelsPath, DefaultModel.Name), DefaultModel.Folder);
        LoraPath = Directory.CreateDirectory(Path.Combine(ModelsPath, "Lora")).FullName;
        EmbeddingsPath = Directory.CreateDirectory(Path.Combine(ModelsPath, "embeddings")).FullName;
        DataPath = Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;
    }

    public string Root { get; }
    public string ModelsPath { get; }
    public string LoraPath { get; }
    public string EmbeddingsPath { get; }
    public string DataPath { get; }

    public Dictionary<string, string?> Settings => new() { ["Engine:ModelsPath"] = ModelsPath };

    /// <summary>An SD 1.x LoRA as kohya's sd-scripts saves it: text-encoder and UNet cross-attention pairs, ss_* notes.</summary>
    public void Sd15Lora(string name, IReadOnlyDictionary<string, string>? metadata = null) => SafetensorsWriter.Write(Path.Combine(LoraPath, name + ".safetensors"),
    [
        new TestTensor("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", [4, 768], new float[4 * 768]),
        new TestTensor("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", "F16", [3072, 4], new float[3072 * 4]),
        new TestTensor("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", "F16", [4, 768], new float[4 * 768]),
        new TestTensor("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", "F16", [320, 4], new float[320 * 4]),
    ], metadata);

    /// <summary>An SDXL LoRA without any metadata: only its te1/te2 key names tell the family.</summary>
    public void SdxlLora(string name) => SafetensorsWriter.Write(Path.Combine(LoraPath, name + ".safetensors"),
    [
        new TestTensor("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", [4, 768], new float[4 * 768]),
        new TestTensor("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", "F16", [4, 1280], new float[4 * 1280]),
    ]);

    /// <summary>An A1111 textual-inversion embedding (<c>emb_params</c> [vectors, 768]).</summary>
    public void Embedding(string name, int vectors = 2) => SafetensorsWriter.Write(Path.Combine(EmbeddingsPath, name + ".safetensors"),
        [new TestTensor("emb_params", "F32", [vectors, 768], new float[vectors * 768])],
        new Dictionary<string, string> { ["step"] = "1500", ["sd_checkpoint_name"] = "v1-5-pruned-emaonly" });

    public static Dictionary<string, string> KohyaMetadata(string outputName, Dictionary<string, Dictionary<string, int>> tagFrequency) => new()
    {
        ["ss_output_name"] = outputName,
        ["ss_base_model_version"] = "sd_v1",
        ["ss_network_module"] = "networks.lora",
        ["ss_network_dim"] = "16",
        ["ss_network_alpha"] = "8",
        ["ss_num_epochs"] = "10",
        ["ss_resolution"] = "(512, 512)",
        ["ss_sd_model_name"] = "v1-5-pruned-emaonly.safetensors",
        ["ss_tag_frequency"] = JsonSerializer.Serialize(tagFrequency),
        ["ss_seed"] = "42",
    };

    public void Dispose() => AppFactory.TryDelete(Root);
}
