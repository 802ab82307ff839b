using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Web.Api.Json;

// pydantic (which A1111's API uses) turns 20.0 and "20" into the int 20; JavaScript clients send such values, so
// integers are read the same lenient way. A fractional value is still an error (pydantic refuses it too).

internal sealed class LenientInt32Converter : JsonConverter<int>
{
    public override int Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var value = LenientInteger.Read(ref reader);
        if (value is < int.MinValue or > int.MaxValue) throw new JsonException("value is out of range for an integer");
        return (int)value;
    }

    public override void Write(Utf8JsonWriter writer, int value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal sealed class LenientInt64Converter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => LenientInteger.Read(ref reader);

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}

internal static class LenientInteger
{
    public static long Read(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (reader.TryGetInt64(out var whole)) return whole;
                if (reader.TryGetDouble(out var number) && IsWhole(number)) return (long)number;
                break;
            case JsonTokenType.String:
                var text = reader.GetString();
                if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)) return parsed;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && IsWhole(d)) return (long)d;
                break;
        }
        throw new JsonException("value is not a valid integer");
    }

    private static bool IsWhole(double d) => double.IsFinite(d) && Math.Floor(d) == d && Math.Abs(d) < 9.2e18;
}

// pydantic's bool also takes 0/1 and "true"/"false"/"yes"/"no"/"on"/"off"/"1"/"0"; A1111's own UI sends
// inpaint_full_res as the radio index 0/1, and clients copy that.
internal sealed class LenientBooleanConverter : JsonConverter<bool>
{
    public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True: return true;
            case JsonTokenType.False: return false;
            case JsonTokenType.Number when reader.TryGetInt64(out var n) && n is 0 or 1: return n == 1;
            case JsonTokenType.String:
                switch (reader.GetString()?.Trim().ToLowerInvariant())
                {
                    case "true" or "1" or "yes" or "on" or "t" or "y": return true;
                    case "false" or "0" or "no" or "off" or "f" or "n": return false;
                }
                break;
        }
        throw new JsonException("value could not be parsed to a boolean");
    }

    public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) => writer.WriteBooleanValue(value);
}
