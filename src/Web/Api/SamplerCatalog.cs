using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Schedulers;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Models;

namespace SdBlazor.Web.Api;

/// <summary>
/// The samplers and schedule types of <see cref="GenerationLimits"/> in A1111's listing shape, with A1111's
/// k-diffusion aliases (<c>k_euler_a</c>, <c>k_dpmpp_2m_ka</c>, …) so that old clients' names resolve too.
/// </summary>
public static class SamplerCatalog
{
    private static readonly Dictionary<string, (string[] Aliases, Dictionary<string, object> Options)> Known = new()
    {
        ["Euler"] = (["k_euler"], []),
        ["Euler a"] = (["k_euler_a", "k_euler_ancestral"], new() { ["uses_ensd"] = true }),
        ["DDIM"] = (["ddim"], new() { ["default_eta_is_0"] = true }),
        ["LMS"] = (["k_lms"], []),
        ["Heun"] = (["k_heun"], new() { ["second_order"] = true }),
        ["DPM++ 2M"] = (["k_dpmpp_2m"], []),
        ["DPM++ 2M SDE"] = (["k_dpmpp_2m_sde"], new() { ["brownian_noise"] = true }),
        ["LCM"] = (["k_lcm"], []),
    };

    // Aliases of the pre-1.9 combined names, which carried the Karras schedule.
    private static readonly Dictionary<string, string> KarrasAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["k_lms_ka"] = "LMS Karras",
        ["k_dpmpp_2m_ka"] = "DPM++ 2M Karras",
        ["k_dpmpp_2m_sde_ka"] = "DPM++ 2M SDE Karras",
    };

    public static IReadOnlyList<SamplerItem> Samplers() =>
        GenerationLimits.Samplers.Select(name => Known.TryGetValue(name, out var k)
            ? new SamplerItem(name, k.Aliases, k.Options)
            : new SamplerItem(name, [], new Dictionary<string, object>())).ToList();

    public static IReadOnlyList<SchedulerItem> Schedulers() =>
    [
        new("automatic", "Automatic", null, -1, false),
        new("karras", "Karras", null, 7.0, false),
    ];

    /// <summary>Maps an A1111 alias (<c>k_euler_a</c>, <c>k_dpmpp_2m_ka</c>) to the sampler's name; other text is returned trimmed.</summary>
    public static string ResolveAlias(string sampler)
    {
        var name = sampler.Trim();
        if (KarrasAliases.TryGetValue(name, out var combined)) return combined;
        foreach (var (canonical, known) in Known)
            if (known.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase)) return canonical;
        return name;
    }

    /// <summary>Whether <paramref name="sampler"/> (name, alias or old "… Karras" spelling) is one we have.</summary>
    public static bool IsKnown(string sampler) => GenerationRequestValidator.IsKnownSampler(ResolveAlias(sampler));

    /// <summary>
    /// Resolves <c>sampler_name</c> (or an alias) and <c>scheduler</c> (label or name) to canonical names.
    /// Throws <see cref="GenerationValidationException"/> naming what is valid.
    /// </summary>
    public static SamplerChoice Resolve(string sampler, string? scheduler)
    {
        var name = ResolveAlias(sampler);
        var schedule = Schedulers().FirstOrDefault(s =>
            string.Equals(s.Name, scheduler?.Trim(), StringComparison.OrdinalIgnoreCase) || string.Equals(s.Label, scheduler?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (!string.IsNullOrWhiteSpace(scheduler) && schedule is null)
            throw new GenerationValidationException($"Schedule type '{scheduler}' is not available; use one of: {string.Join(", ", Schedulers().Select(s => s.Label))}.");
        // An explicit "Automatic" must not undo the Karras of an old combined name such as "DPM++ 2M Karras".
        var label = schedule is { Name: "karras" } ? "Karras" : null;
        return SchedulerFactory.Resolve(name, label);
    }
}
