"""Curated word lists behind the rule-based entity extractor.

Rules alone over-fire on capitalized words; small curated lists keep precision high
without any model download. The lists are deliberately modest (common names, countries,
US states, major cities, well-known organizations and acronyms) and are plain data so they
can be reviewed and extended without touching the matching logic in ``entities.py``.
"""

from __future__ import annotations

from eightflow.embedded.resources import data_words


def _names(block: str) -> frozenset[str]:
    """Entries separated by commas or newlines (so multi-word names keep their spaces)."""
    return frozenset(p.strip() for p in block.replace("\n", ",").split(",") if p.strip())


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


COUNTRIES = _names("""
Afghanistan, Albania, Algeria, Andorra, Angola, Antigua and Barbuda, Argentina, Armenia,
Australia, Austria, Azerbaijan, Bahamas, Bahrain, Bangladesh, Barbados, Belarus, Belgium,
Belize, Benin, Bhutan, Bolivia, Bosnia and Herzegovina, Botswana, Brazil, Brunei, Bulgaria,
Burkina Faso, Burundi, Cambodia, Cameroon, Canada, Cape Verde, Central African Republic,
Chile, China, Colombia, Comoros, Costa Rica, Croatia, Cuba, Cyprus, Czech Republic, Czechia,
Democratic Republic of the Congo, Denmark, Djibouti, Dominica, Dominican Republic,
East Timor, Ecuador, Egypt, El Salvador, Equatorial Guinea, Eritrea, Estonia, Eswatini,
Ethiopia, Fiji, Finland, France, Gabon, Gambia, Germany, Ghana, Greece, Grenada, Guatemala,
Guinea, Guinea-Bissau, Guyana, Haiti, Honduras, Hungary, Iceland, India, Indonesia, Iran,
Iraq, Ireland, Israel, Italy, Ivory Coast, Jamaica, Japan, Kazakhstan, Kenya, Kiribati,
Kosovo, Kuwait, Kyrgyzstan, Laos, Latvia, Lebanon, Lesotho, Liberia, Libya, Liechtenstein,
Lithuania, Luxembourg, Madagascar, Malawi, Malaysia, Maldives, Mali, Malta,
Marshall Islands, Mauritania, Mauritius, Mexico, Micronesia, Moldova, Monaco, Mongolia,
Montenegro, Morocco, Mozambique, Myanmar, Namibia, Nauru, Nepal, Netherlands, New Zealand,
Nicaragua, Niger, Nigeria, North Korea, North Macedonia, Norway, Oman, Pakistan, Palau,
Palestine, Panama, Papua New Guinea, Paraguay, Peru, Philippines, Poland, Portugal, Qatar,
Republic of the Congo, Romania, Russia, Rwanda, Saint Lucia, Samoa, San Marino,
Saudi Arabia, Senegal, Serbia, Seychelles, Sierra Leone, Singapore, Slovakia, Slovenia,
Solomon Islands, Somalia, South Africa, South Korea, South Sudan, Spain, Sri Lanka, Sudan,
Suriname, Sweden, Switzerland, Syria, Taiwan, Tajikistan, Tanzania, Thailand, Togo, Tonga,
Trinidad and Tobago, Tunisia, Turkey, Türkiye, Turkmenistan, Tuvalu, Uganda, Ukraine,
United Arab Emirates, United Kingdom, United States, United States of America, Uruguay,
Uzbekistan, Vanuatu, Vatican City, Venezuela, Vietnam, Yemen, Zambia, Zimbabwe,
England, Scotland, Wales, Northern Ireland, Great Britain, Britain, Hong Kong, Macau,
Puerto Rico, Greenland, Korea, America, U.S., U.S.A., USA, U.K., UK, UAE
""")

US_STATES = _names("""
Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida,
Hawaii, Idaho, Illinois, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland, Massachusetts,
Michigan, Minnesota, Mississippi, Missouri, Nebraska, Nevada, New Hampshire, New Jersey,
New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma, Oregon, Pennsylvania,
Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont, West Virginia,
Wisconsin, Wyoming
""")

CITIES = _names("""
New York City, Los Angeles, Chicago, Philadelphia, San Antonio, San Diego, San Jose,
Seattle, Boston, Denver, Atlanta, Miami, Detroit, Minneapolis, Portland, Las Vegas,
San Francisco, Baltimore, Nashville, New Orleans, Pittsburgh, Cleveland, St. Louis,
Toronto, Montreal, Vancouver, Ottawa, Calgary, Mexico City, Guadalajara, Havana, Bogotá,
Bogota, Lima, Buenos Aires, São Paulo, Sao Paulo, Rio de Janeiro, Brasília, Caracas, Quito,
Montevideo, London, Paris, Berlin, Madrid, Barcelona, Rome, Milan, Naples, Venice, Lisbon,
Porto, Amsterdam, Rotterdam, The Hague, Brussels, Antwerp, Vienna, Zurich, Geneva, Munich,
Frankfurt, Hamburg, Cologne, Stockholm, Oslo, Copenhagen, Helsinki, Dublin, Edinburgh,
Glasgow, Manchester, Liverpool, Birmingham, Warsaw, Krakow, Prague, Budapest, Bucharest,
Athens, Istanbul, Ankara, Moscow, Saint Petersburg, St. Petersburg, Kyiv, Kiev, Minsk,
Riga, Vilnius, Tallinn, Belgrade, Zagreb, Cairo, Lagos, Abuja, Nairobi, Addis Ababa,
Johannesburg, Cape Town, Durban, Casablanca, Marrakesh, Tunis, Algiers, Accra, Dakar,
Kinshasa, Khartoum, Kampala, Dar es Salaam, Tehran, Baghdad, Riyadh, Jeddah, Dubai,
Abu Dhabi, Doha, Kuwait City, Beirut, Damascus, Jerusalem, Tel Aviv, Amman, Karachi,
Lahore, Islamabad, Delhi, New Delhi, Mumbai, Bangalore, Bengaluru, Chennai, Kolkata,
Hyderabad, Pune, Dhaka, Kathmandu, Colombo, Beijing, Shanghai, Shenzhen, Guangzhou,
Chengdu, Wuhan, Hangzhou, Tianjin, Chongqing, Taipei, Seoul, Busan, Pyongyang, Tokyo,
Osaka, Kyoto, Yokohama, Bangkok, Hanoi, Ho Chi Minh City, Manila, Jakarta, Kuala Lumpur,
Yangon, Phnom Penh, Melbourne, Brisbane, Perth, Adelaide, Canberra, Auckland, Honolulu,
Silicon Valley, Washington D.C.
""")

REGIONS = _names("""
Africa, Antarctica, Asia, Europe, North America, South America, Latin America,
Central America, Oceania, Middle East, Southeast Asia, East Asia, South Asia, Central Asia,
Eastern Europe, Western Europe, Scandinavia, Balkans, Caribbean, Sub-Saharan Africa,
West Africa, East Africa, North Africa, Arctic
""")

#: Places that are also common first names, surnames or words: accepted only after a
#: locative cue ("in", "from", ...) or once such a cue has confirmed them in the text.
AMBIGUOUS_PLACES = _names("""
Georgia, Jordan, Chad, Victoria, Washington, Virginia, Austin, Florence, Sydney, Phoenix,
Charlotte, Orlando, Jackson, Madison, Lincoln, Houston, Dallas, Nice, Columbus, Indiana,
Montana, Santiago, Alexandria, Sofia, Wellington, Kent, Reading
""")

PLACES = COUNTRIES | US_STATES | CITIES | REGIONS | AMBIGUOUS_PLACES

LOCATIVE_CUES = _words(
    "in at from to near across throughout outside inside into toward towards around within "
    "via visited visit visiting of"
)

FIRST_NAMES = _names("""
James, John, Robert, Michael, William, David, Richard, Joseph, Thomas, Charles,
Christopher, Daniel, Matthew, Anthony, Mark, Donald, Steven, Paul, Andrew, Joshua, Kenneth,
Kevin, Brian, George, Timothy, Tim, Ronald, Edward, Jason, Jeffrey, Jeff, Ryan, Jacob,
Gary, Nicholas, Eric, Jonathan, Stephen, Steve, Larry, Justin, Scott, Brandon, Benjamin,
Samuel, Sam, Gregory, Alexander, Frank, Patrick, Raymond, Jack, Dennis, Jerry, Tyler,
Aaron, Jose, José, Adam, Nathan, Henry, Douglas, Zachary, Peter, Kyle, Ethan, Walter, Noah,
Jeremy, Christian, Keith, Roger, Terry, Harold, Sean, Carl, Arthur, Lawrence, Dylan,
Jesse, Bryan, Joe, Bruce, Gabriel, Logan, Albert, Alan, Juan, Wayne, Elijah, Roy, Vincent,
Ralph, Eugene, Russell, Bobby, Mason, Philip, Louis, Bill, Tom, Mike, Dave, Chris, Nick,
Ben, Dan, Matt, Alex, Tony, Elon, Warren, Jerome, Barack, Mitch, Boris, Rishi, Keir,
Emmanuel, Olaf, Volodymyr, Neil, Ian, Colin, Graham, Simon, Martin, Howard, Vladimir,
Xavier, Oliver, Harry, Leo, Oscar, Hugo,
Mary, Patricia, Jennifer, Linda, Elizabeth, Barbara, Susan, Jessica, Sarah, Karen, Lisa,
Nancy, Betty, Margaret, Sandra, Ashley, Kimberly, Emily, Donna, Michelle, Carol, Amanda,
Dorothy, Melissa, Deborah, Stephanie, Rebecca, Sharon, Laura, Cynthia, Kathleen, Amy,
Angela, Shirley, Anna, Brenda, Pamela, Emma, Nicole, Helen, Samantha, Katherine,
Christine, Rachel, Carolyn, Janet, Catherine, Maria, Heather, Diane, Ruth, Julie, Olivia,
Joyce, Kelly, Lauren, Christina, Joan, Evelyn, Judith, Megan, Andrea, Cheryl, Hannah,
Jacqueline, Martha, Gloria, Teresa, Sara, Frances, Kathryn, Janice, Jean, Abigail, Alice,
Judy, Sophia, Sophie, Grace, Denise, Amber, Doris, Marilyn, Danielle, Beverly, Isabella,
Theresa, Diana, Natalie, Brittany, Marie, Kayla, Alexis, Lori, Jane, Kamala, Hillary,
Jacinda, Greta, Ursula, Giorgia, Taylor, Oprah, Serena, Claire, Chloe, Lucy, Zoe, Mia,
Ava, Ella, Amelia, Harper, Nora,
Mohammed, Muhammad, Mohamed, Ahmed, Ali, Omar, Hassan, Hussein, Yusuf, Ibrahim, Mustafa,
Khalid, Tariq, Fatima, Aisha, Layla, Mariam, Noor, Zainab, Leila,
Priya, Raj, Rahul, Amit, Sanjay, Anil, Sunita, Deepak, Arjun, Ananya, Vikram, Ravi, Nikhil,
Narendra, Satya, Sundar, Aditya, Pooja, Neha, Anjali, Rohan, Kiran,
Wei, Ming, Hui, Jing, Xin, Yan, Lei, Fang, Hiroshi, Yuki, Kenji, Takeshi, Akira, Haruto,
Sakura, Kenta, Naoki, Shinzo, Jin, Min, Hyun, Seo, Ji-woo, Min-jun,
Carlos, Luis, Miguel, Javier, Alejandro, Diego, Lucia, Lucía, Camila, Valentina, Mateo,
Pablo, Jorge, Fernando, Ricardo, Elena, Carmen, Isabel, Ana, Pedro, João, Rafael, Sergio,
Andrés, Gabriela, Mariana, Fernanda, Giulia, Marco, Luca, Francesco, Giovanni,
Alessandro, Matteo, Chiara, Paolo, Hans, Klaus, Jürgen, Stefan, Wolfgang, Friedrich,
Angela, Pierre, Jacques, François, Nicolas, Sébastien, Camille, Élise, Ivan, Dmitri,
Dmitry, Sergei, Sergey, Olga, Natasha, Anastasia, Igor, Mikhail, Alexei, Lars, Sven, Ingrid,
Astrid, Anders, Nils, Kwame, Chinedu, Amara, Nia, Thabo, Sipho, Ngozi, Femi, Kofi, Chidi,
Abebe, Tendai, Wanjiru, Oluwaseun
""")

#: Capitalized words that follow a first name without making a surname ("Mark Monday").
NOT_SURNAMES = _names("""
Street, St, Avenue, Road, Lane, Boulevard, Drive, Square, Park, Station, Airport, Bridge,
Hall, Center, Centre, Building, Tower, Line, Day, Week, Month, Year, Prize, Award, Act,
Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday, January, February, March,
April, May, June, July, August, September, October, November, December, Inc, Ltd, Corp,
LLC, Group, Bank, University, Foundation, Institute, Company, Report, Chapter, Section,
However, Today, Yesterday, Tomorrow, Meanwhile, According, Also, And, But, The, This
""")

#: Titles and roles that introduce a person's name. Lowercase roles are matched only
#: before a two-word name ("economist Maria Lopez").
TITLES = _names("""
Mr, Mrs, Ms, Mx, Miss, Dr, Prof, Professor, Sen, Senator, Rep, Representative,
Congressman, Congresswoman, Gov, Governor, Pres, President, Vice President, Prime Minister,
Minister, Chancellor, Secretary, Secretary of State, Mayor, Judge, Justice, King, Queen,
Prince, Princess, Pope, Sir, Dame, Lord, Lady, Gen, General, Col, Colonel, Capt, Captain,
Lt, Lieutenant, Sgt, Sergeant, Rev, Reverend, Ambassador, Commissioner, Chairman,
Chairwoman, CEO, CFO, CTO, COO, Chief Executive, Director, Detective, Inspector, Coach,
Dean, Bishop, Archbishop, Rabbi, Imam
""")
ROLES = _names("""
chief executive, chief executive officer, chairman, chairwoman, founder, co-founder,
president, director, spokesperson, spokesman, spokeswoman, senator, professor, economist,
analyst, minister, governor, mayor, secretary, judge, lawyer, attorney, author, writer,
reporter, editor, manager, coach, actor, actress, singer, researcher, scientist
""")

#: Words that make a capitalized sequence an organization ("Stanford University",
#: "Bank of England"). Legal suffixes may also follow a comma ("Acme, Inc.").
LEGAL_SUFFIXES = _names("""
Inc, Incorporated, Ltd, Limited, LLC, LLP, Corp, Corporation, Co, PLC, plc, GmbH, AG, SA,
S.A, NV, N.V, SE, SpA, S.p.A, Pty, Holdings, Group
""")
ORG_KEYWORDS = _names("""
Company, Bank, University, Institute, Foundation, Agency, Ministry, Council, Committee,
Commission, Association, Authority, Department, Bureau, Organization, Organisation,
Federation, Union, College, School, Academy, Hospital, Clinic, Fund, Trust, Society, Party,
Court, Exchange, Reserve, Service, Board, Administration, Airlines, Airways, Motors,
Technologies, Pharmaceuticals, Labs, Laboratories, Partners, Ventures, Studios, Times,
Post, Journal, Press, Industries, Enterprises, Insurance, Securities, Investments
""")

#: Well-known organizations without a telltale keyword. Single words are matched after
#: persons, so "Michael Bloomberg" stays a person.
KNOWN_ORGS = _names("""
Google, Alphabet, Microsoft, Apple, Amazon, Facebook, Instagram, WhatsApp, Netflix, Tesla,
SpaceX, Nvidia, NVIDIA, Intel, Cisco, Adobe, Salesforce, OpenAI, Anthropic, DeepMind,
Samsung, Sony, Toyota, Honda, Nissan, Hyundai, Volkswagen, Mercedes-Benz, General Motors,
General Electric, Boeing, Airbus, Lockheed Martin, Pfizer, Moderna, AstraZeneca, Novartis, Roche,
Johnson & Johnson, Merck, Siemens, Bosch, Philips, Nestlé, Unilever, Procter & Gamble,
Coca-Cola, PepsiCo, McDonald's, Starbucks, Walmart, Costco, Alibaba, Tencent, Baidu, Huawei,
Xiaomi, ByteDance, TikTok, Uber, Lyft, Airbnb, Spotify, PayPal, Mastercard, JPMorgan,
JPMorgan Chase, J.P. Morgan, Goldman Sachs, Morgan Stanley, Citigroup, Citibank,
Wells Fargo, BlackRock, Berkshire Hathaway, Barclays, ExxonMobil, Chevron, Reuters,
Bloomberg, Associated Press, Congress, Senate, Pentagon, Kremlin, White House,
Federal Reserve, Supreme Court, European Union, United Nations, World Bank,
World Health Organization, Securities and Exchange Commission, Red Cross, Greenpeace,
Wikipedia, Mozilla, GitHub, LinkedIn, Twitter, YouTube
""") | data_words("organizations.txt")
KNOWN_ACRONYMS = _names("""
NASA, FBI, CIA, NSA, NATO, UN, EU, WHO, IMF, OECD, WTO, UNESCO, UNICEF, OPEC, ECB, SEC, FDA,
EPA, FTC, FCC, IRS, DOJ, NHS, BBC, CNN, NBC, CBS, NPR, MIT, UCLA, NYU, IBM, AMD, BMW, HSBC,
UBS, KPMG, PwC, IKEA, FIFA, IOC, NBA, NFL, MLB, ICC, IAEA, ASEAN, CERN, DARPA, NIH, CDC,
USDA, DHS, TSMC, SAP, HP, BP, LVMH, AT&T
""")

#: Capitalized words that open sentences; stripped from the front of organization spans.
LEADING_NOISE = _names("""
Yesterday, Today, Tomorrow, Meanwhile, According, Last, Next, Earlier, Later, Following,
Despite, Although, While, Under, Shares, Analysts, Officials, Investors, Researchers,
Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday, Both, Many, Several
""")

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
CURRENCY_CODES = (
    "USD|EUR|GBP|JPY|CNY|RMB|CHF|CAD|AUD|INR|KRW|BRL|MXN|SEK|NOK|DKK|HKD|SGD|NZD|ZAR|RUB"
)
CURRENCY_WORDS = (
    "dollars?|euros?|pounds sterling|yen|yuan|renminbi|rupees?|pesos?|francs?|cents?|"
    "won|rubles?|roubles?|reais"
)
