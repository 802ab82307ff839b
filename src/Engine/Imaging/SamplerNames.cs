namespace SdBlazor.Engine.Imaging;

/// <summary>Maps other tools' sampler/scheduler identifiers (ComfyUI, SwarmUI, InvokeAI) to A1111's names.</summary>
internal static class SamplerNames
{
    private static readonly Dictionary<string, string> Samplers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["euler"] = "Euler",
        ["euler_ancestral"] = "Euler a",
        ["euler_a"] = "Euler a",
        ["heun"] = "Heun",
        ["dpm_2"] = "DPM2",
        ["dpm_2_ancestral"] = "DPM2 a",
        ["kdpm_2"] = "DPM2",
        ["kdpm_2_a"] = "DPM2 a",
        ["lms"] = "LMS",
        ["dpmpp_2s_ancestral"] = "DPM++ 2S a",
        ["dpmpp_2s"] = "DPM++ 2S a",
        ["dpmpp_sde"] = "DPM++ SDE",
        ["dpmpp_2m"] = "DPM++ 2M",
        ["dpmpp_2m_sde"] = "DPM++ 2M SDE",
        ["dpmpp_3m_sde"] = "DPM++ 3M SDE",
        ["ddim"] = "DDIM",
        ["ddpm"] = "DDPM",
        ["pndm"] = "PLMS",
        ["lcm"] = "LCM",
        ["uni_pc"] = "UniPC",
        ["unipc"] = "UniPC",
        ["deis"] = "DEIS",
    };

    private static readonly Dictionary<string, string> Schedules = new(StringComparer.OrdinalIgnoreCase)
    {
        ["normal"] = "Automatic",
        ["karras"] = "Karras",
        ["exponential"] = "Exponential",
        ["sgm_uniform"] = "SGM Uniform",
        ["simple"] = "Simple",
        ["ddim_uniform"] = "DDIM",
        ["beta"] = "Beta",
    };

    public static string Sampler(string? id) =>
        id is null ? "" : Samplers.TryGetValue(id, out var name) ? name : id;

    public static string Schedule(string? id) =>
        id is null ? "Automatic" : Schedules.TryGetValue(id, out var name) ? name : id;

    /// <summary>InvokeAI encodes Karras as a <c>_k</c> suffix of the scheduler (<c>dpmpp_2m_k</c>).</summary>
    public static (string Sampler, string Schedule) FromInvokeAi(string? scheduler)
    {
        if (scheduler is null) return ("", "Automatic");
        return scheduler.EndsWith("_k", StringComparison.OrdinalIgnoreCase)
            ? (Sampler(scheduler[..^2]), "Karras")
            : (Sampler(scheduler), "Automatic");
    }
}
