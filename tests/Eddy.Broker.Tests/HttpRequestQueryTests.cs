using Eddy.Http;

namespace Eddy.Broker.Tests;

/// <summary>A request's query parameters read by name: decoded, the first of a repeated one, empty without a value,
/// absent as null.</summary>
public class HttpRequestQueryTests
{
    [Theory]
    [InlineData("dry_run=true", "dry_run", "true")]
    [InlineData("a=1&dry_run=false&dry_run=true", "dry_run", "false")]
    [InlineData("dry_run", "dry_run", "")]
    [InlineData("name=a%20b+c", "name", "a b c")]
    [InlineData("dry%5Frun=true", "dry_run", "true")]
    [InlineData("dry_runs=true", "dry_run", null)]
    [InlineData("", "dry_run", null)]
    [InlineData("&&", "dry_run", null)]
    public void AParameterIsFoundByItsDecodedName(string query, string name, string? expected)
        => Assert.Equal(expected, new HttpRequest("GET", "/", query, [], keepAlive: true).QueryValue(name));
}
