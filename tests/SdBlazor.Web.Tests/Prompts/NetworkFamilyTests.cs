using SdBlazor.Web.Prompts;

namespace SdBlazor.Web.Tests.Prompts;

/// <summary>The base model a LoRA / embedding card names: what the file states first, else its tensors' widths.</summary>
public sealed class NetworkFamilyTests
{
    private static readonly Dictionary<string, string> NoMetadata = [];

    private static Dictionary<string, long[]> CrossAttention(long width) => new()
    {
        ["lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight"] = [8, width],
        ["lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight"] = [640, 8],
    };

    [Theory]
    [InlineData(768, NetworkFamily.Sd1)]
    [InlineData(1024, NetworkFamily.Sd2)]
    [InlineData(2048, NetworkFamily.Sdxl)]
    [InlineData(4096, NetworkFamily.Unknown)]
    public void A_lora_without_metadata_is_told_by_its_cross_attention_width(long width, string family) =>
        Assert.Equal(family, NetworkFamily.OfLora(NoMetadata, CrossAttention(width)));

    [Fact]
    public void Stated_metadata_wins_over_shapes()
    {
        Assert.Equal(NetworkFamily.Sdxl, NetworkFamily.OfLora(new Dictionary<string, string> { ["ss_base_model_version"] = "sdxl_base_v1-0" }, CrossAttention(768)));
        Assert.Equal(NetworkFamily.Sd2, NetworkFamily.OfLora(new Dictionary<string, string> { ["modelspec.architecture"] = "stable-diffusion-v2-768-v/lora" }, new Dictionary<string, long[]>()));
        Assert.Equal(NetworkFamily.Sd2, NetworkFamily.OfLora(new Dictionary<string, string> { ["ss_v2"] = "True" }, new Dictionary<string, long[]>()));
        Assert.Equal("flux1", NetworkFamily.OfLora(new Dictionary<string, string> { ["ss_base_model_version"] = "flux1" }, new Dictionary<string, long[]>()));
        Assert.Equal(NetworkFamily.Sdxl, NetworkFamily.OfLora(NoMetadata, new Dictionary<string, long[]> { ["lora_te2_text_model_encoder_layers_0_mlp_fc1.alpha"] = [] }));
        Assert.Equal(NetworkFamily.Unknown, NetworkFamily.OfLora(NoMetadata, new Dictionary<string, long[]>()));
    }

    [Fact]
    public void An_embedding_is_told_by_its_row_width()
    {
        Assert.Equal(NetworkFamily.Sd1, NetworkFamily.OfEmbedding(new Dictionary<string, long[]> { ["emb_params"] = [4, 768] }));
        Assert.Equal(NetworkFamily.Sd2, NetworkFamily.OfEmbedding(new Dictionary<string, long[]> { ["emb_params"] = [4, 1024] }));
        Assert.Equal(NetworkFamily.Sdxl, NetworkFamily.OfEmbedding(new Dictionary<string, long[]> { ["clip_l"] = [2, 768], ["clip_g"] = [2, 1280] }));
        Assert.Equal(NetworkFamily.Unknown, NetworkFamily.OfEmbedding(new Dictionary<string, long[]>()));
    }
}
