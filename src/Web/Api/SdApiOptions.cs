using System.ComponentModel.DataAnnotations;

namespace SdBlazor.Web.Api;

/// <summary>Settings of the AUTOMATIC1111-compatible API (section <c>Api</c>).</summary>
public sealed class SdApiOptions
{
    public const string Section = "Api";

    /// <summary>What <c>save_images</c> means when a request leaves it out (A1111's default is false).</summary>
    public bool SaveImagesByDefault { get; set; }

    /// <summary>Largest request body accepted; bigger ones get 413. The default fits one 10 MB init image in base64.</summary>
    [Range(64 * 1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>File in the data folder that keeps settings changed through <c>POST /sdapi/v1/options</c>.</summary>
    [Required]
    public string SettingsFile { get; set; } = "sdapi-options.json";
}
