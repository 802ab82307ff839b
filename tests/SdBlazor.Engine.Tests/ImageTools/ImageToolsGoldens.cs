using System.Text.Json;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>Numbers made by <c>tools/goldens/image_tools.py</c> with torch's own generator and interpolate.</summary>
internal static class ImageToolsGoldens
{
    private static readonly Lazy<JsonElement> Root = new(() => JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "image_tools_goldens.json"))).RootElement);

    public static JsonElement Get(string name) => Root.Value.GetProperty(name);

    public static float[] Floats(JsonElement element) => element.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    public static void AssertClose(float[] expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}: value {i} is {actual[i]}, torch gives {expected[i]}");
    }
}
